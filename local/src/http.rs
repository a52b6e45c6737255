//! Serving the API router over HTTP on one machine (`momentarium serve`, the tests).
//!
//! hyper answers a request it cannot parse within its own limits with an empty 414 or
//! 431. Its limits are set well above the router's (see [`momentarium_shared::http::MAX_HEADERS`]),
//! so a client meets the router's answers, in the documented error shape, for anything
//! up to hyper's fixed 64 KiB request-target ceiling.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How many headers hyper itself reads before giving up (the router allows fewer).
const HYPER_MAX_HEADERS: usize = 1024;
/// How many bytes of request head hyper buffers (the router allows 32 KiB of headers).
const HYPER_MAX_BUF: usize = 1024 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves; connections still open then
/// get up to ten seconds to finish.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, peer)) = accepted else { continue };
                // The peer's address, for routes that count attempts per address.
                let service = TowerToHyperService::new(router.clone().map_request(
                    move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        request
                    },
                ));
                let mut builder = Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .max_headers(HYPER_MAX_HEADERS)
                    .max_buf_size(HYPER_MAX_BUF);
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(socket), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
}
