//! The `deliver` Lambda: the runtime loop around `steps::deliver`; everything else lives in the library.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vectora_inbox::lambda::serve::<vectora_inbox::steps::Deliver>().await
}
