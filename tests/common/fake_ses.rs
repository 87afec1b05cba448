//! A fake SES v2 endpoint on loopback speaking the real wire format (REST-JSON
//! `POST /v2/email/outbound-emails`), answering as told per request, and keeping every request
//! it was sent.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::fake_bedrock::read_request;

/// How the fake answers one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// 200 with a MessageId.
    Accept,
    /// 400 MessageRejected (an unverified address): nothing left.
    Reject,
    /// Reads the request and closes the connection without a word: the message may have left.
    Drop,
}

pub struct FakeSes {
    pub port: u16,
    /// Every request as (path, JSON body), in arrival order.
    pub requests: Arc<Mutex<Vec<(String, Value)>>>,
    /// Answers for the next requests, first first; when empty, `Accept`.
    pub script: Arc<Mutex<Vec<Answer>>>,
}

impl FakeSes {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<(String, Value)> {
        self.requests.lock().unwrap().clone()
    }

    pub fn then(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend_from_slice(answers);
    }
}

pub async fn fake_ses() -> FakeSes {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Mutex<Vec<Answer>>> = Arc::new(Mutex::new(Vec::new()));
    let (seen, plan) = (requests.clone(), script.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let Some((path, body)) = read_request(&mut socket).await else {
                continue;
            };
            let n = {
                let mut seen = seen.lock().unwrap();
                seen.push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                seen.len()
            };
            let answer = {
                let mut plan = plan.lock().unwrap();
                if plan.is_empty() {
                    Answer::Accept
                } else {
                    plan.remove(0)
                }
            };
            let (status, error_type, body) = match answer {
                Answer::Accept => ("200 OK", None, format!("{{\"MessageId\":\"ses-{n}\"}}")),
                Answer::Reject => (
                    "400 Bad Request",
                    Some("MessageRejected"),
                    "{\"message\":\"Email address is not verified.\"}".to_string(),
                ),
                Answer::Drop => {
                    drop(socket);
                    continue;
                }
            };
            let mut head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some(t) = error_type {
                head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
            }
            head.push_str("\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    FakeSes {
        port,
        requests,
        script,
    }
}
