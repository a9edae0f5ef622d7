//! Lakes on object storage: `s3://bucket/prefix` (AWS S3 and S3-compatible stores such as
//! MinIO or Ceph), `gs://bucket/prefix` and `az://container/prefix`.
//!
//! Configuration is the platform's standard one, read by `object_store`'s builders from the
//! environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, web identity and instance
//! credentials; `GOOGLE_*`; `AZURE_*`), plus AWS shared profiles (`AWS_PROFILE`,
//! `~/.aws/credentials`, `~/.aws/config`) for what the environment leaves unset. Secrets
//! never appear in messages: errors name the lake URL (without user info) and say what to
//! check.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ObjectStore, RetryConfig};
use url::Url;

/// Retries for throttling (503 SlowDown), 5xx and dropped connections: 6 retries with
/// exponential backoff from 100 ms (6.3 s in all), within 2 minutes per request.
pub fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries: 6,
        retry_timeout: Duration::from_secs(120),
    }
}

/// Whether `url` names a cloud lake.
pub fn is_cloud(url: &Url) -> bool {
    matches!(
        url.scheme(),
        "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss"
    )
}

/// The object store for a cloud lake URL, rooted at the URL's path. `options` are
/// object_store configuration keys (`aws_endpoint`, `aws_allow_http`, `google_service_account`,
/// `azure_storage_account_name`, ...) that override the environment.
///
/// ```
/// let url = url::Url::parse("s3://bucket/cx/lake").unwrap();
/// assert!(socialcx::lake::cloud::store(&url, &[]).is_ok());
/// let bad = [("aws_no_such_key".to_string(), "x".to_string())];
/// assert!(socialcx::lake::cloud::store(&url, &bad).unwrap_err().contains("aws_no_such_key"));
/// ```
pub fn store(url: &Url, options: &[(String, String)]) -> Result<Arc<dyn ObjectStore>, String> {
    let root = url.path().trim_matches('/').to_string();
    let unknown = |key: &str| format!("unknown storage option {key:?}");
    let built: Result<Arc<dyn ObjectStore>, object_store::Error> = match url.scheme() {
        "s3" | "s3a" => {
            let mut builder = s3_builder(url);
            for (key, value) in options {
                builder = builder.with_config(key.parse().map_err(|_| unknown(key))?, value);
            }
            builder.build().map(|s| Arc::new(s) as _)
        }
        "gs" => {
            let mut builder = GoogleCloudStorageBuilder::from_env()
                .with_url(bucket_url(url))
                .with_retry(retry_config());
            for (key, value) in options {
                builder = builder.with_config(key.parse().map_err(|_| unknown(key))?, value);
            }
            builder.build().map(|s| Arc::new(s) as _)
        }
        "az" | "azure" | "abfs" | "abfss" => {
            let mut builder = MicrosoftAzureBuilder::from_env()
                .with_url(bucket_url(url))
                .with_retry(retry_config());
            for (key, value) in options {
                builder = builder.with_config(key.parse().map_err(|_| unknown(key))?, value);
            }
            builder.build().map(|s| Arc::new(s) as _)
        }
        other => return Err(format!("{other}:// is not an object store scheme")),
    };
    built
        .map(|store| {
            if root.is_empty() {
                store
            } else {
                Arc::new(PrefixStore::new(store, root.as_str())) as Arc<dyn ObjectStore>
            }
        })
        .map_err(|e| describe(&e))
}

/// `scheme://bucket` of a lake URL (the path is the lake's root inside the bucket).
fn bucket_url(url: &Url) -> String {
    format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default())
}

fn s3_builder(url: &Url) -> AmazonS3Builder {
    let mut builder = AmazonS3Builder::from_env()
        .with_url(bucket_url(url))
        .with_retry(retry_config());
    // A shared profile fills in what the environment leaves unset.
    for (key, value) in aws_profile() {
        if builder.get_config_value(&key).is_none() {
            builder = builder.with_config(key, value);
        }
    }
    if builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    builder
}

/// The settings of the AWS shared profile (`AWS_PROFILE`, else `default`) from
/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` and
/// `AWS_CONFIG_FILE`). Missing files give nothing.
fn aws_profile() -> Vec<(AmazonS3ConfigKey, String)> {
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let mut settings = HashMap::new();
    // The config file names sections `[profile x]` (but `[default]`); credentials `[x]`.
    if let Some(path) = file("AWS_CONFIG_FILE", "config") {
        let section = if profile == "default" {
            "default".to_string()
        } else {
            format!("profile {profile}")
        };
        settings.extend(ini_section(&path, &section));
    }
    if let Some(path) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials") {
        settings.extend(ini_section(&path, &profile));
    }
    let mut out = Vec::new();
    for (name, key) in [
        ("aws_access_key_id", AmazonS3ConfigKey::AccessKeyId),
        ("aws_secret_access_key", AmazonS3ConfigKey::SecretAccessKey),
        ("aws_session_token", AmazonS3ConfigKey::Token),
        ("region", AmazonS3ConfigKey::Region),
        ("endpoint_url", AmazonS3ConfigKey::Endpoint),
    ] {
        if let Some(value) = settings.get(name) {
            out.push((key, value.clone()));
        }
    }
    out
}

/// `key = value` lines of `[section]` in an INI file.
fn ini_section(path: &PathBuf, section: &str) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut current = None::<String>;
    let mut values = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_string());
        } else if current.as_deref() == Some(section)
            && let Some((k, v)) = line.split_once('=')
        {
            values.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    values
}

/// A short, actionable description of a store error: what went wrong and what to check,
/// without the library's nested chain (and without secrets, which object_store never puts
/// in its messages).
///
/// ```
/// let e = object_store::Error::NotFound { path: "_log/1.json".into(), source: "gone".into() };
/// assert!(socialcx::lake::cloud::describe(&e).contains("not found"));
/// ```
pub fn describe(error: &object_store::Error) -> String {
    use std::error::Error as _;
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    let has = |needle: &str| chain.contains(needle);
    if has("NoSuchBucket") || has("bucket does not exist") || has("ContainerNotFound") {
        "the bucket does not exist (create it, or check the name in the lake URL)".into()
    } else if has("AccessDenied")
        || has("InvalidAccessKeyId")
        || has("SignatureDoesNotMatch")
        || has("403 Forbidden")
        || has("AuthorizationFailure")
        || has("401 Unauthorized")
    {
        "access denied: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         AWS_PROFILE, or the instance role) and the bucket policy"
            .into()
    } else if has("Connection refused")
        || has("connection error")
        || has("dns error")
        || has("error sending request")
        || has("timed out")
        || has("HTTP error: request or response body error")
    {
        "cannot reach the object store (check AWS_ENDPOINT_URL, the network, and \
         AWS_ALLOW_HTTP=true for a plain-HTTP endpoint)"
            .into()
    } else if let object_store::Error::NotFound { path, .. } = error {
        format!("{path} not found")
    } else if has("Missing bucket name") || has("Missing region") || has("Unable to parse") {
        format!("bad configuration: {error}")
    } else if let Some(status) = http_status(&chain) {
        let retries = chain
            .split_once("after ")
            .and_then(|(_, rest)| rest.split_once(" retries"))
            .map(|(n, _)| format!(" after {n} retries"))
            .unwrap_or_default();
        format!("the object store answered {status}{retries}")
    } else {
        // Keep the first line of the library's message: enough to search for.
        error
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// "500 Internal Server Error (InternalError)" from an object_store message that carries
/// the response status and an S3 XML error body.
fn http_status(chain: &str) -> Option<String> {
    let (_, rest) = chain.split_once("status code: ")?;
    let status = rest.split(':').next()?.trim().to_string();
    let code = chain
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| format!(" ({c})"))
        .unwrap_or_default();
    Some(format!("{status}{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read_from_ini_sections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(
            &path,
            "[default]\naws_access_key_id = A\n\n[ops]\n# comment\naws_access_key_id=B\nregion = eu-west-1\n",
        )
        .unwrap();
        assert_eq!(ini_section(&path, "default")["aws_access_key_id"], "A");
        let ops = ini_section(&path, "ops");
        assert_eq!(ops["aws_access_key_id"], "B");
        assert_eq!(ops["region"], "eu-west-1");
        assert!(ini_section(&dir.path().join("missing"), "default").is_empty());
    }

    #[test]
    fn statuses_are_extracted_from_library_messages() {
        let chain = "Generic S3 error: Error performing PUT http://h/b/k in 1s, after 6 retries, \
                     max_retries: 6 - Server returned non-2xx status code: 500 Internal Server \
                     Error: <?xml version=\"1.0\"?><Error><Code>InternalError</Code></Error>";
        assert_eq!(
            http_status(chain).unwrap(),
            "500 Internal Server Error (InternalError)"
        );
    }
}
