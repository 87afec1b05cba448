//! Deploying the stack: the environments of `infra/samconfig.toml` (`samconfig`) and the
//! promotion of one packaged artifact from one environment to the next (`promote`).

pub mod promote;
pub mod samconfig;
