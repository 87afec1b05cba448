//! Deploying the stack: the environments of `infra/samconfig.toml` (`samconfig`) and the
//! promotion of one packaged artifact from one environment to the next (`promote`), and the
//! smoke test of a deployed stack (`smoke`).

pub mod promote;
pub mod samconfig;
pub mod smoke;
