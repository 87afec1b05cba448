//! Vectora Inbox: unattended industry newsletters.
//!
//! Sources are fetched, normalized, matched against a client's watch lists, scored, selected
//! per section, written up by an editor and assembled into Markdown and HTML. Each step is a
//! function over [`ports::Ports`] (store, fetcher, editor, clock, metrics) and a small JSON
//! event, run either as a Lambda behind AWS Step Functions or in-process by [`runner`], which
//! interprets the very same state-machine file (`statemachine/newsletter.asl.json`).

pub mod asl;
pub mod aws;
pub mod classify;
pub mod config;
pub mod delivery;
pub mod deploy;
pub mod editorial;
pub mod error;
pub mod journal;
pub mod keys;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod matching;
pub mod model;
pub mod normalize;
pub mod ports;
pub mod preflight;
pub mod render;
pub mod report;
pub mod runner;
pub mod schedules;
pub mod scoring;
pub mod selection;
pub mod sources;
pub mod steps;
pub mod store;
pub mod text;
pub mod urls;

pub use error::{Error, ErrorKind, Result};
