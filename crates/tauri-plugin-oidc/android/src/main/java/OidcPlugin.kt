// The sign-in page in a Custom Tab (the user's browser, shown over the app), for tauri-plugin-oidc.
//
// Nothing here is a protocol step: Rust builds the authorization URL and checks the callback (state,
// issuer, code exchange, ID token). This file only shows the page and hands back the URL the browser
// redirects to, or says that the user closed the tab.
//
// The redirect (com.okta.example:/callback?…) reaches the app's activity through the intent filter
// tauri-plugin-deep-link writes for the scheme. Android delivers onNewIntent before onResume, so a
// resume with no redirect after the tab was shown means the user closed the tab.
//
// Not built or run in this project's CI (no Android SDK there): see the crate's README.

package tauri.plugin.oidc

import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Intent
import android.net.Uri
import androidx.appcompat.app.AppCompatActivity
import androidx.browser.customtabs.CustomTabsIntent
import app.tauri.annotation.Command
import app.tauri.annotation.InvokeArg
import app.tauri.annotation.TauriPlugin
import app.tauri.plugin.Invoke
import app.tauri.plugin.JSObject
import app.tauri.plugin.Plugin

@InvokeArg
class StartAuthSessionArgs {
    lateinit var url: String
    lateinit var callbackScheme: String
    // iOS only: Custom Tabs share the browser's cookies.
    var prefersEphemeralSession: Boolean = false
}

@TauriPlugin
class OidcPlugin(private val activity: Activity) : Plugin(activity) {
    private var pending: Invoke? = null
    private var callbackScheme: String? = null
    private var tabShown = false

    @Command
    fun startAuthSession(invoke: Invoke) {
        val args = invoke.parseArgs(StartAuthSessionArgs::class.java)
        activity.runOnUiThread {
            // A newer page replaces the one still open: Rust ignores the old one's end.
            take()?.reject("a newer sign-in page replaced this one", "superseded")
            pending = invoke
            callbackScheme = args.callbackScheme
            try {
                CustomTabsIntent.Builder().build().launchUrl(activity, Uri.parse(args.url))
            } catch (e: ActivityNotFoundException) {
                take()?.reject("no browser is installed to show the sign-in page", "no_browser")
            }
        }
    }

    override fun onPause(activity: AppCompatActivity) {
        if (pending != null) tabShown = true
    }

    override fun onNewIntent(intent: Intent) {
        val url = intent.data ?: return
        if (intent.action != Intent.ACTION_VIEW) return
        if (!url.scheme.equals(callbackScheme, ignoreCase = true)) return
        val ret = JSObject()
        ret.put("url", url.toString())
        take()?.resolve(ret)
    }

    override fun onResume(activity: AppCompatActivity) {
        if (tabShown) take()?.reject("the sign-in page was closed", "cancelled")
    }

    private fun take(): Invoke? {
        val invoke = pending
        pending = null
        tabShown = false
        return invoke
    }
}
