//! XML-RPC: the wire codec ([`xmlrpc`]), the faults ([`faults`]), the `supervisor.*` and
//! `system.*` methods ([`namespace`]), and [`handle_request`], which turns one request body into
//! one response body through the actor. Knows nothing about HTTP.

pub mod faults;
mod method_docs;
pub mod namespace;
pub mod xmlrpc;

use crate::config::datatypes::LogLevel;
use crate::logs::mainlog::Logger;
use crate::process::actor::{SupervisorHandle, Waiter};
use bytes::Bytes;
use faults::{Fault, FaultCode};
use namespace::{Answer, Reply};
use std::sync::{Arc, Mutex};
use xmlrpc::Value;

/// What a request comes to, for the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with this XML body (a fault is a normal reply too).
    Xml(Bytes),
    /// 400: the body is not a method call supervisor can read.
    BadRequest,
    /// 500: the answer cannot be marshalled (a None, which no method returns; ints beyond 32
    /// bits are written, unlike Python, GOT-25).
    ServerError,
}

/// Runs one call inside the actor and waits for its answer, however long a `wait=True` takes.
pub(crate) async fn call_one(
    handle: &SupervisorHandle,
    method: String,
    params: Vec<Value>,
) -> Answer {
    if namespace::is_read_only(&method) {
        let answer = handle.read(move |sup| namespace::call_read(sup, &method, &params)).await;
        return answer.unwrap_or_else(|| Err(Fault::bare(FaultCode::ShutdownState)));
    }
    let answer = handle
        .run_waiting(move |sup, tx| match namespace::call(sup, &method, &params) {
            Reply::Done(answer) => {
                let _ = tx.send(answer);
                None
            }
            Reply::Wait(mut pending) => {
                let mut tx = Some(tx);
                let waiter: Waiter = Box::new(move |sup| match pending(sup) {
                    Some(answer) => {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(answer);
                        }
                        true
                    }
                    None => false,
                });
                Some(waiter)
            }
        })
        .await;
    answer.unwrap_or_else(|| Err(Fault::bare(FaultCode::ShutdownState)))
}

/// `system.multicall`: each call in turn (a waiting call holds up the ones after it), results
/// as raw values mixed with fault structs (GOT-1).
pub(crate) async fn multicall(handle: &SupervisorHandle, params: Vec<Value>) -> Answer {
    let [Value::Array(calls)] =
        <[Value; 1]>::try_from(params).map_err(|_| Fault::bare(FaultCode::IncorrectParameters))?
    else {
        return Err(Fault::bare(FaultCode::IncorrectParameters));
    };
    let mut results = Vec::with_capacity(calls.len());
    for c in calls {
        let method = c.get("methodName").and_then(Value::as_str).map(str::to_string);
        let params = match c.get("params") {
            Some(Value::Array(p)) => p.clone(),
            _ => Vec::new(),
        };
        let answer = match method.as_deref() {
            None => Err(Fault::with(FaultCode::IncorrectParameters, "No methodName")),
            Some("system.multicall") => Err(Fault::with(
                FaultCode::IncorrectParameters,
                "Recursive system.multicall forbidden",
            )),
            Some(m) => call_one(handle, m.to_string(), params).await,
        };
        results.push(match answer {
            Ok(v) => v,
            Err(f) => Value::Struct(vec![
                ("faultCode".into(), Value::Int(f.code.code())),
                ("faultString".into(), Value::Str(f.text)),
            ]),
        });
    }
    Ok(Value::Array(results))
}

/// The last `getAllProcessInfo` reply body, with the table generation and the second it was
/// built for. Every field of that reply is a function of the table and of the current second
/// (`now`, uptimes), so while both are unchanged the same bytes are the right answer: a
/// dashboard polling many times a second costs one build per second, not one per request.
#[derive(Default)]
pub struct ReplyCache {
    all_process_info: Mutex<Option<(u64, i64, Bytes)>>,
}

impl ReplyCache {
    /// The reply for the table as `sup` has it now: the cached body or a freshly built one.
    fn all_process_info(&self, sup: &crate::process::supervisor::Supervisor) -> Outcome {
        let key = (sup.generation, namespace::now_second());
        if let Ok(entry) = self.all_process_info.lock()
            && let Some((generation, second, body)) = entry.as_ref()
            && (*generation, *second) == key
        {
            return Outcome::Xml(body.clone());
        }
        let outcome = outcome_of(namespace::call_read(sup, ALL_PROCESS_INFO, &[]));
        if let Outcome::Xml(body) = &outcome
            && let Ok(mut entry) = self.all_process_info.lock()
        {
            *entry = Some((key.0, key.1, body.clone()));
        }
        outcome
    }
}

/// An answer as the HTTP layer gets it, for the fast paths that log nothing about the call
/// (they are only taken when TRACE is off).
fn outcome_of(answer: Answer) -> Outcome {
    match answer {
        Ok(value) => match xmlrpc::method_response(&value) {
            Ok(xml) => Outcome::Xml(Bytes::from(xml)),
            Err(_) => Outcome::ServerError,
        },
        Err(fault) => {
            Outcome::Xml(Bytes::from(xmlrpc::fault_response(fault.code.code(), &fault.text)))
        }
    }
}

const ALL_PROCESS_INFO: &str = "supervisor.getAllProcessInfo";

/// One `POST /RPC2` body in, one response out.
pub async fn handle_request(
    handle: &SupervisorHandle,
    cache: &Arc<ReplyCache>,
    body: &[u8],
    logger: &Logger,
) -> Outcome {
    let call = match xmlrpc::parse_method_call(body) {
        Ok(call) => call,
        Err(e) => {
            let why = match e {
                xmlrpc::RequestError::NoMethodName => "no method name",
                _ => "unmarshallable",
            };
            let data = crate::process::io::bytes_repr(body);
            logger.error(&format!("XML-RPC request data {data} is invalid: {why}"));
            return Outcome::BadRequest;
        }
    };
    // The RPC path is hot and TRACE is usually off: build these lines only when they are kept.
    let tracing = logger.enabled(LogLevel::Trace);
    if tracing {
        logger.trace(&format!("XML-RPC method called: {}()", call.method));
    } else if call.method == "supervisor.getState" && call.params.is_empty() {
        // The mood is published by the actor; no round trip needed (see SupervisorHandle::mood).
        return outcome_of(namespace::get_state(handle.mood()));
    } else if call.method == ALL_PROCESS_INFO && call.params.is_empty() {
        // Traced calls take the general path, which knows whether it answered with a fault.
        let cache = Arc::clone(cache);
        let outcome = handle.read(move |sup| cache.all_process_info(sup)).await;
        return outcome.unwrap_or_else(|| outcome_of(Err(Fault::bare(FaultCode::ShutdownState))));
    }
    let method = call.method.clone();
    let answer = if method == "system.multicall" {
        multicall(handle, call.params).await
    } else {
        call_one(handle, method.clone(), call.params).await
    };
    match answer {
        Ok(value) => match xmlrpc::method_response(&value) {
            Ok(xml) => {
                if tracing {
                    logger.trace(&format!("XML-RPC method {method}() returned successfully"));
                }
                Outcome::Xml(Bytes::from(xml))
            }
            Err(e) => {
                logger.critical(&format!(
                    "Handling XML-RPC request with data {} raised an unexpected exception: {e}",
                    crate::process::io::bytes_repr(body)
                ));
                Outcome::ServerError
            }
        },
        Err(fault) => {
            if tracing {
                logger.trace(&format!(
                    "XML-RPC method {method}() returned fault: [{}] {}",
                    fault.code.code(),
                    fault.text
                ));
            }
            Outcome::Xml(Bytes::from(xmlrpc::fault_response(fault.code.code(), &fault.text)))
        }
    }
}
