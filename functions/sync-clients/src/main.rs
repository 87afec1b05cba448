//! The `sync-clients` Lambda: the runtime loop around the client sync, triggered by the config
//! bucket's S3 notifications; everything else lives in the library.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vectora_inbox::lambda::serve_sync_clients().await
}
