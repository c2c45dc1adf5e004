//! The functions' HTTPS client (`desk_runtime::aws`: rustls on ring, the system's
//! root certificates, its connector built at the first request) does a real TLS
//! round trip. No AWS endpoint is reachable here, so a local TLS server plays
//! DynamoDB, with a certificate from a test CA (`tests/tls/`, made for this test
//! only) that the client trusts through `SSL_CERT_FILE`, the variable the system
//! store's loader (rustls-native-certs) reads first.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

/// Accepts one TLS connection, reads one HTTP/1.1 request, answers ListTables.
async fn one_request_server() -> (u16, tokio::task::JoinHandle<String>) {
    let certs = CertificateDer::pem_file_iter(fixture("localhost.pem"))
        .expect("certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = acceptor.accept(tcp).await.expect("TLS handshake");
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = tls.read(&mut chunk).await.expect("read");
            request.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let body = br#"{"TableNames":["over-tls"]}"#;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.expect("write");
        tls.write_all(body).await.expect("write");
        tls.shutdown().await.ok();
        String::from_utf8_lossy(&request).into_owned()
    });
    (port, server)
}

#[tokio::test]
async fn the_sdk_client_speaks_tls_with_the_system_roots() {
    let (port, server) = one_request_server().await;
    // The only test in this binary: the process environment is its own.
    std::env::set_var("SSL_CERT_FILE", fixture("ca.pem"));
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_ENDPOINT_URL", format!("https://localhost:{port}"));
    let aws = desk_runtime::aws().await;
    let out = aws_sdk_dynamodb::Client::new(&aws)
        .list_tables()
        .send()
        .await
        .map_err(aws_sdk_dynamodb::error::DisplayErrorContext)
        .expect("ListTables over TLS");
    assert_eq!(out.table_names(), ["over-tls"]);
    let request = server.await.expect("server");
    assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("x-amz-target: dynamodb_20120810.listtables"),
        "{request}"
    );
}
