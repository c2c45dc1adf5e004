//! One HTTPS client for every SDK client of a function, whose TLS set-up waits for
//! the first request.
//!
//! Measured (`make sizes`, strace): the SDK's default HTTPS client builds a
//! connector, parsing every root certificate of the system store, when each
//! service client is constructed (`validate_base_client_config`, "so that native
//! certs load at client initialization time"), and again on the first request:
//! three parses for a function with two clients, ~4.5 ms of CPU of a 6 ms init
//! on this machine. Shared and deferred, the store is parsed once, when the
//! first call needs it; the clients' configuration is otherwise the SDK's own.

use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;

/// The SDK's rustls HTTPS client, without its eager connector, on ring rather than
/// the SDK default's aws-lc: the same TLS 1.2/1.3 suites and the system's root
/// certificates (rustls-native-certs), ~1.5 MB less per binary; what it gives up is
/// aws-lc's post-quantum key exchange (X25519MLKEM768), which ring does not have.
pub fn client() -> SharedHttpClient {
    Deferred(
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https(),
    )
    .into_shared()
}

#[derive(Debug)]
struct Deferred(SharedHttpClient);

impl HttpClient for Deferred {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // The inner client caches one connector per settings: the first request
        // of the first client builds it; every later one reuses it.
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config` keeps its default (nothing): that is where the
    // SDK's client would build a connector at construction.

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}
