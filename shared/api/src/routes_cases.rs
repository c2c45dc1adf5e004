//! Routes of remote-support sessions: ticket sessions, the Service Queue,
//! QuickSupport modules, and the public customer side.

use desk_domain::cases::CaseListRequest;
use desk_domain::module::ModuleInput;
use desk_domain::session::{
    NewManualCase, NewTicketSession, PublicCaseEvent, PublicCaseRequest, SessionCode,
};
use desk_domain::Caller;
use http::{Method, StatusCode};
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

use crate::body::{json, no_query, query_pairs};
use crate::problem::Problem;
use crate::routes::{allowed, method_not_allowed, ticket_number, Res};
use crate::{App, Reply};

/// Malformed codes cannot exist: simply not found.
fn code(raw: &str) -> Result<SessionCode, Problem> {
    SessionCode::parse(raw).map_err(|_| Problem::not_found("service_case"))
}

/// `DELETE /service-cases` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkDelete {
    codes: Vec<String>,
}

const MAX_BULK: usize = 100;

pub async fn route(
    app: &App,
    req: &Request,
    caller: &Caller,
    method: &Method,
    segments: &[&str],
) -> Res {
    let desk = &app.desk;
    match (method.as_str(), segments) {
        ("POST", ["tickets", id, "sessions"]) => {
            no_query(req)?;
            let number = ticket_number(id)?;
            // The body is optional: no body means defaults.
            let input: NewTicketSession = if crate::body::is_empty(req) {
                NewTicketSession::default()
            } else {
                json(req)?
            };
            let created = desk.create_ticket_session(caller, number, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &created)?.header(
                http::header::LOCATION,
                format!("/service-cases/{}", created.case.code),
            ))
        }

        ("GET", ["service-cases"]) => {
            let request = CaseListRequest::parse(&query_pairs(req), caller.id())
                .map_err(Problem::invalid_query)?;
            let page = desk.list_cases(caller, &request).await?;
            Reply::ok(
                &json!({"items": page.items, "count": page.items.len(), "next_cursor": page.next_cursor}),
            )
        }
        ("POST", ["service-cases"]) => {
            no_query(req)?;
            let input: NewManualCase = json(req)?;
            let created = desk.create_manual_case(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &created)?.header(
                http::header::LOCATION,
                format!("/service-cases/{}", created.case.code),
            ))
        }
        ("DELETE", ["service-cases"]) => {
            no_query(req)?;
            let input: BulkDelete = json(req)?;
            if input.codes.is_empty() || input.codes.len() > MAX_BULK {
                return Err(Problem::invalid_field(desk_domain::FieldError::new(
                    "codes",
                    format!("give 1 to {MAX_BULK} session codes"),
                )));
            }
            Reply::ok(&desk.delete_cases(caller, &input.codes).await?)
        }
        ("GET", ["service-cases", c]) => {
            no_query(req)?;
            Reply::ok(&desk.service_case(caller, &code(c)?).await?)
        }
        ("DELETE", ["service-cases", c]) => {
            no_query(req)?;
            desk.delete_case(caller, &code(c)?).await?;
            Ok(Reply::no_content())
        }
        ("POST", ["service-cases", c, "close"]) => {
            no_query(req)?;
            Reply::ok(&desk.close_case(caller, &code(c)?).await?)
        }
        ("POST", ["service-cases", c, "connect"]) => {
            no_query(req)?;
            let (case, connect) = desk.connect_case(caller, &code(c)?).await?;
            Reply::ok(&json!({"case": case, "connect": connect}))
        }

        ("GET", ["modules"]) => {
            no_query(req)?;
            Reply::ok(&json!({"items": desk.modules(caller).await?}))
        }
        ("POST", ["modules"]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: ModuleInput = json(req)?;
            let module = desk.create_module(caller, input).await?;
            Ok(Reply::json(StatusCode::CREATED, &module)?
                .header(http::header::LOCATION, format!("/modules/{}", module.id)))
        }
        ("GET", ["modules", id]) => {
            no_query(req)?;
            Reply::ok(&desk.module(caller, id).await?)
        }
        ("PUT", ["modules", id]) => {
            no_query(req)?;
            caller.require_admin()?;
            let input: ModuleInput = json(req)?;
            Reply::ok(&desk.update_module(caller, id, input).await?)
        }
        ("DELETE", ["modules", id]) => {
            no_query(req)?;
            desk.delete_module(caller, id).await?;
            Ok(Reply::no_content())
        }
        _ => Err(method_not_allowed(allowed(segments).unwrap_or(""))),
    }
}

/// Header carrying a case's secret on public event calls.
pub const CASE_SECRET_HEADER: &str = "x-case-secret";

pub async fn public(app: &App, req: &Request, segments: &[&str]) -> Res {
    let desk = &app.desk;
    match (req.method().as_str(), segments) {
        ("POST", ["public", "modules", module_id, "cases"]) => {
            no_query(req)?;
            let input: PublicCaseRequest = if crate::body::is_empty(req) {
                PublicCaseRequest::default()
            } else {
                json(req)?
            };
            let (view, secret) = desk.create_public_case(module_id, input).await?;
            let mut body = serde_json::to_value(&view).map_err(|e| {
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
            body["secret"] = json!(secret);
            Reply::json(StatusCode::CREATED, &body)
        }
        ("POST", ["public", "cases", c, "events"]) => {
            no_query(req)?;
            let secret = req
                .headers()
                .get(CASE_SECRET_HEADER)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty() && v.len() <= 256)
                .ok_or_else(|| {
                    Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "missing_case_secret",
                        "send the case's secret in X-Case-Secret",
                    )
                })?
                .to_string();
            let event: PublicCaseEvent = json(req)?;
            Reply::ok(&desk.public_case_event(c, &secret, event).await?)
        }
        _ => Err(method_not_allowed(allowed(segments).unwrap_or(""))),
    }
}
