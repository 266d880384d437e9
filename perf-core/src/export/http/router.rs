//! The routing seam: exact paths mapped to handlers, and the answers the
//! server gives on its own (404, 405, 413, 500).
//!
//! A handler sees the request's head only ([`http::request::Parts`]): no
//! route reads a body today, so a request that announces one is refused
//! with 413 before any handler runs, and the connection is closed rather
//! than its body read.

use std::panic::{self, AssertUnwindSafe};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};

/// A handler: the answer to a request's head.
pub(crate) type Handler = Box<dyn Fn(&Parts) -> Reply + Send + Sync + 'static>;

/// What a handler answers: a status, a content type and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) body: Bytes,
}

impl Reply {
    /// A 200 with `body` of `content_type`.
    pub(crate) fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type,
            body: body.into(),
        }
    }

    /// A short `text/plain` answer with `status`.
    pub(crate) fn plain(status: StatusCode, body: &'static str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from_static(body.as_bytes()),
        }
    }
}

/// One path and what answers it.
struct Route {
    path: &'static str,
    methods: &'static [Method],
    allow: &'static str,
    handler: Handler,
}

/// Exact paths (the query string is not part of the match) to handlers.
///
/// Invariant: paths are unique; the first route added for a path wins.
#[derive(Default)]
pub(crate) struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// A router with no routes: everything is 404.
    pub(crate) fn new() -> Router {
        Router::default()
    }

    /// Answers `GET` and `HEAD` on `path` with `handler` (a `HEAD` gets
    /// the `GET` answer's headers without its body).
    pub(crate) fn get(mut self, path: &'static str, handler: Handler) -> Router {
        self.routes.push(Route {
            path,
            methods: &[Method::GET, Method::HEAD],
            allow: "GET, HEAD",
            handler,
        });
        self
    }

    /// The response to `request`; a panicking handler gives 500.
    pub(crate) fn respond<B: Body>(&self, request: Request<B>) -> Response<Full<Bytes>> {
        let has_body = announces_body(&request);
        let (parts, _body) = request.into_parts();
        let Some(route) = self.routes.iter().find(|r| r.path == parts.uri.path()) else {
            return response(Reply::plain(StatusCode::NOT_FOUND, "not found\n"));
        };
        if !route.methods.contains(&parts.method) {
            let mut answer = response(Reply::plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed\n",
            ));
            let allow = HeaderValue::from_static(route.allow);
            answer.headers_mut().insert(header::ALLOW, allow);
            return answer;
        }
        if has_body {
            let mut answer = response(Reply::plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "this path takes no request body\n",
            ));
            let close = HeaderValue::from_static("close");
            answer.headers_mut().insert(header::CONNECTION, close);
            return answer;
        }
        let reply = panic::catch_unwind(AssertUnwindSafe(|| (route.handler)(&parts)))
            .unwrap_or_else(|_| {
                Reply::plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
            });
        response(reply)
    }
}

/// Whether a request says a body follows (a non-zero length or any
/// transfer coding).
fn announces_body<B: Body>(request: &Request<B>) -> bool {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0");
    length || headers.contains_key(header::TRANSFER_ENCODING)
}

/// A [`Reply`] as a hyper response.
fn response(reply: Reply) -> Response<Full<Bytes>> {
    let mut answer = Response::new(Full::new(reply.body));
    *answer.status_mut() = reply.status;
    let content_type = HeaderValue::from_static(reply.content_type);
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new()
            .get("/ok", Box::new(|_| Reply::ok("text/plain", "fine")))
            .get("/boom", Box::new(|_| panic!("handler bug")))
    }

    fn request(method: Method, uri: &str, length: Option<&str>) -> Request<Full<Bytes>> {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(length) = length {
            builder = builder.header(header::CONTENT_LENGTH, length);
        }
        builder.body(Full::new(Bytes::new())).unwrap()
    }

    #[test]
    fn paths_match_exactly_and_ignore_the_query() {
        let router = router();
        let status = |uri| router.respond(request(Method::GET, uri, None)).status();
        assert_eq!(status("/ok"), StatusCode::OK);
        assert_eq!(status("/ok?x=1"), StatusCode::OK);
        assert_eq!(status("/ok/"), StatusCode::NOT_FOUND);
        assert_eq!(status("/"), StatusCode::NOT_FOUND);
    }

    #[test]
    fn wrong_methods_bodies_and_panics_have_their_own_answers() {
        let router = router();
        let post = router.respond(request(Method::POST, "/ok", None));
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");
        let with_body = router.respond(request(Method::GET, "/ok", Some("10")));
        assert_eq!(with_body.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(with_body.headers()[header::CONNECTION], "close");
        let empty_body = router.respond(request(Method::GET, "/ok", Some("0")));
        assert_eq!(empty_body.status(), StatusCode::OK);
        let boom = router.respond(request(Method::GET, "/boom", None));
        assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
