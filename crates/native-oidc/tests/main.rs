//! Integration tests of the engine against the real local identity provider (`dev/idp`), driven over
//! HTTP like a browser, and ID token validation against tokens signed here.

mod support;

mod device;
mod discovery;
mod dpop;
mod id_token;
mod refresh;
mod request;
mod sign_in;
mod sign_out;
mod store;
