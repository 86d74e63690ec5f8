//! HTTP Basic auth as supervisor checks it (`medusa.auth_handler` with supervisor's
//! `encrypted_dictionary_authorizer`): one user, a plain or `{SHA}`+hex-sha1 password, and
//! Python's lenient base64 decoding of the credentials.

use crate::http::request::RequestHead;

/// The one user a server accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    username: String,
    password: Option<String>,
}

/// What the `Authorization` header earns a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Granted,
    /// 401; `unsupported` carries the lowercased scheme when it was not Basic (supervisor
    /// reports that on its stderr).
    Denied {
        unsupported: Option<String>,
    },
    /// 400: the credentials are not base64 of UTF-8 (supervisor writes them to its stderr).
    Malformed {
        credentials: String,
    },
}

impl Credentials {
    /// Auth is on only when the username is non-empty: `username=` with a password silently
    /// disables it (GOT-30).
    pub fn from_config(username: Option<&str>, password: Option<&str>) -> Option<Credentials> {
        let username = username.filter(|u| !u.is_empty())?;
        Some(Credentials { username: username.to_string(), password: password.map(str::to_string) })
    }

    pub fn check(&self, head: &RequestHead) -> Verdict {
        let Some((scheme, credentials)) = head.authorization() else {
            return Verdict::Denied { unsupported: None };
        };
        let scheme = scheme.to_lowercase();
        if scheme != "basic" {
            return Verdict::Denied { unsupported: Some(scheme) };
        }
        let decoded = crate::python::a2b_base64(credentials.as_bytes())
            .and_then(|b| String::from_utf8(b).ok());
        let Some(decoded) = decoded else {
            return Verdict::Malformed { credentials: credentials.to_string() };
        };
        // Without a colon supervisor fails to unpack the pair and answers 500; these are
        // simply wrong credentials, so they get the 401 any other wrong password gets.
        let Some((user, password)) = decoded.split_once(':') else {
            return Verdict::Denied { unsupported: None };
        };
        if user == self.username && self.password_matches(password) {
            Verdict::Granted
        } else {
            Verdict::Denied { unsupported: None }
        }
    }

    fn password_matches(&self, supplied: &str) -> bool {
        let Some(stored) = self.password.as_deref() else {
            return false;
        };
        match stored.strip_prefix("{SHA}") {
            Some(hash) => {
                let digest = sha1_smol::Sha1::from(supplied.as_bytes()).hexdigest();
                constant_time_eq(hash.as_bytes(), digest.as_bytes())
            }
            None => constant_time_eq(stored.as_bytes(), supplied.as_bytes()),
        }
    }
}

/// Equality whose running time does not depend on where the first difference is, so response
/// timing does not reveal how much of a guessed password was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::parse_head;

    fn verdict(creds: &Credentials, auth: Option<&str>) -> Verdict {
        let raw = match auth {
            Some(a) => format!("GET / HTTP/1.1\r\nAuthorization: {a}"),
            None => "GET / HTTP/1.1".to_string(),
        };
        creds.check(&parse_head(raw.as_bytes()).unwrap())
    }

    #[test]
    fn lenient_base64_matches_binascii() {
        assert_eq!(crate::python::a2b_base64(b"dXNlcjp0ZXN0"), Some(b"user:test".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"dXNl cjp0\nZXN0"), Some(b"user:test".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"!!!!"), Some(vec![]));
        assert_eq!(crate::python::a2b_base64(b""), Some(vec![]));
        assert_eq!(crate::python::a2b_base64(b"abc"), None);
        assert_eq!(crate::python::a2b_base64(b"a"), None);
        assert_eq!(crate::python::a2b_base64(b"YQ=="), Some(b"a".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"YQ==trailing"), Some(b"a".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"YQ="), None);
        assert_eq!(crate::python::a2b_base64(b"YWI=YQ=="), Some(b"ab".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"=YQ=="), Some(b"a".to_vec()));
        assert_eq!(crate::python::a2b_base64(b"Y=Q=="), Some(b"a".to_vec()));
    }

    #[test]
    fn auth_is_off_without_a_username() {
        assert_eq!(Credentials::from_config(None, None), None);
        assert_eq!(Credentials::from_config(Some(""), Some("pw")), None);
        assert!(Credentials::from_config(Some("u"), Some("pw")).is_some());
    }

    #[test]
    fn plain_and_sha_passwords() {
        let plain = Credentials::from_config(Some("user"), Some("test")).unwrap();
        let sha = Credentials::from_config(
            Some("user"),
            Some("{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
        )
        .unwrap();
        let upper = Credentials::from_config(
            Some("user"),
            Some("{SHA}A94A8FE5CCB19BA61C4C0873D391E987982FBBD3"),
        )
        .unwrap();
        let denied = Verdict::Denied { unsupported: None };
        for creds in [&plain, &sha] {
            assert_eq!(verdict(creds, Some("Basic dXNlcjp0ZXN0")), Verdict::Granted);
            assert_eq!(verdict(creds, Some("basic dXNlcjp0ZXN0")), Verdict::Granted);
            assert_eq!(verdict(creds, Some("Basic dXNlcjp3cm9uZw==")), denied);
            assert_eq!(verdict(creds, None), denied);
        }
        assert_eq!(verdict(&upper, Some("Basic dXNlcjp0ZXN0")), denied);
        // "{SHA}..." typed as the password is not the password.
        assert_eq!(
            verdict(
                &sha,
                Some("Basic dXNlcjp7U0hBfWE5NGE4ZmU1Y2NiMTliYTYxYzRjMDg3M2QzOTFlOTg3OTgyZmJiZDM=")
            ),
            denied
        );
    }

    #[test]
    fn malformed_and_foreign_credentials() {
        let creds = Credentials::from_config(Some("user"), Some("test")).unwrap();
        assert_eq!(
            verdict(&creds, Some("Bearer xyz")),
            Verdict::Denied { unsupported: Some("bearer".to_string()) }
        );
        assert_eq!(
            verdict(&creds, Some("Basic abc")),
            Verdict::Malformed { credentials: "abc".to_string() }
        );
        assert!(matches!(verdict(&creds, Some("Basic //79")), Verdict::Malformed { .. }));
        // Decodes to nothing, or to a string without a colon: Python 500, here 401.
        assert_eq!(verdict(&creds, Some("Basic !!!!")), Verdict::Denied { unsupported: None });
        assert_eq!(verdict(&creds, Some("Basic dXNlcg==")), Verdict::Denied { unsupported: None });
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
