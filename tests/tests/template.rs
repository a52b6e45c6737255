//! `template.yaml` checked against the code: a function per crate and a crate per
//! function, every variable a function needs set for it (and none the code does not
//! read), the queue's timeouts and redrive, partial batch failures, the routes and their
//! authorizer; then `cfn-lint` and `sam validate --lint`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use momentarium_shared::config::{Config, Need};
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// YAML with CloudFormation's short tags (`!Ref x`) as their long JSON forms.
fn to_json(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => json!(b),
        Y::Number(n) => serde_json::to_value(n).unwrap(),
        Y::String(s) => json!(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" || name == "Condition" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            };
            json!({ key: to_json(tagged.value) })
        }
    }
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    to_json(serde_norway::from_str(&text).unwrap())
}

fn crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn logical_id(crate_name: &str) -> String {
    let pascal: String = crate_name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("{pascal}Function")
}

fn functions(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn every_function_crate_has_a_function_and_every_function_a_crate() {
    let t = template();
    let fns = functions(&t);
    let from_crates: BTreeSet<String> = crates().iter().map(|c| logical_id(c)).collect();
    let in_template: BTreeSet<String> = fns.keys().cloned().collect();
    assert_eq!(from_crates, in_template);
    for c in crates() {
        let f = &fns[&logical_id(&c)];
        assert_eq!(f["Properties"]["CodeUri"], format!("functions/{c}"), "{c}");
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{c}");
        let manifest =
            std::fs::read_to_string(root().join(format!("functions/{c}/Cargo.toml"))).unwrap();
        assert!(
            manifest.contains(&format!("name = \"{c}\"")),
            "{c}: package name must match the folder"
        );
    }
    let g = &t["Globals"]["Function"];
    assert_eq!(g["Runtime"], "provided.al2023");
    assert_eq!(g["Architectures"], json!(["arm64"]));
    assert_eq!(g["Handler"], "bootstrap");
    assert_eq!(g["LoggingConfig"]["LogFormat"], "JSON");
}

/// The variables a function's `main.rs` declares it needs, besides DATABASE_URL.
fn needs_of(crate_name: &str) -> BTreeSet<String> {
    let main = std::fs::read_to_string(root().join(format!("functions/{crate_name}/src/main.rs")))
        .unwrap();
    let mut vars: BTreeSet<String> = [Need::Storage, Need::Queue, Need::WebhookSecret]
        .into_iter()
        .filter(|n| main.contains(&format!("Need::{n:?}")))
        .map(|n| Config::variable_for(n).to_string())
        .collect();
    vars.insert("DATABASE_URL".into());
    vars
}

#[test]
fn each_function_gets_the_variables_it_needs_and_only_ones_the_code_reads() {
    let t = template();
    let known: BTreeSet<String> = Config::variables().into_iter().collect();
    let globals = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_object()
        .unwrap()
        .clone();
    for c in crates() {
        let f = &functions(&t)[&logical_id(&c)];
        let mut env: BTreeSet<String> = globals.keys().cloned().collect();
        if let Some(own) = f["Properties"]["Environment"]["Variables"].as_object() {
            env.extend(own.keys().cloned());
        }
        for need in needs_of(&c) {
            assert!(
                env.contains(&need),
                "{c} needs {need} but the template does not set it"
            );
        }
        for var in &env {
            assert!(
                known.contains(var),
                "{c}: the template sets {var}, which the code never reads"
            );
        }
    }
    // Secrets come from Secrets Manager, never as plain text.
    for secret in ["DATABASE_URL", "WEBHOOK_SECRET"] {
        let value = globals[secret].to_string();
        assert!(
            value.contains("{{resolve:secretsmanager:"),
            "{secret}: {value}"
        );
    }
}

#[test]
fn the_readme_documents_every_variable() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for var in Config::variables() {
        if var == "AWS_LAMBDA_FUNCTION_NAME" {
            continue; // set by Lambda itself
        }
        assert!(
            readme.contains(&format!("`{var}`")),
            "README's configuration table lacks {var}"
        );
    }
}

#[test]
fn the_queue_redrives_and_the_processor_reports_partial_failures() {
    let t = template();
    let r = &t["Resources"];
    let processor_timeout = r["ProcessJobFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = r["JobQueue"]["Properties"]["VisibilityTimeout"]
        .as_u64()
        .unwrap();
    assert!(
        visibility >= 6 * processor_timeout,
        "visibility {visibility}s < 6 × {processor_timeout}s"
    );
    let redrive = &r["JobQueue"]["Properties"]["RedrivePolicy"];
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!({"Fn::GetAtt": "JobDeadLetterQueue.Arn"})
    );
    assert_eq!(
        redrive["maxReceiveCount"],
        json!({"Ref": "MaxReceiveCount"})
    );
    let param = &t["Parameters"]["MaxReceiveCount"];
    assert!(
        param["Default"].as_u64().unwrap() >= 2 && param["MinValue"].as_u64().unwrap() >= 2,
        "never 1"
    );
    assert_eq!(
        r["DeadLetterAlarm"]["Properties"]["Dimensions"][0]["Value"],
        json!({"Fn::GetAtt": "JobDeadLetterQueue.QueueName"})
    );
    let sqs = r["ProcessJobFunction"]["Properties"]["Events"]
        .as_object()
        .unwrap()
        .values()
        .find(|e| e["Type"] == "SQS")
        .unwrap();
    assert_eq!(
        sqs["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        sqs["Properties"]["Queue"],
        json!({"Fn::GetAtt": "JobQueue.Arn"})
    );
}

#[test]
fn routes_match_the_api_and_only_the_page_health_and_the_webhook_skip_the_authorizer() {
    let t = template();
    let openapi: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(root().join("openapi.yaml")).unwrap())
            .unwrap();
    let documented: BTreeSet<String> = to_json(openapi)["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let mut routed = BTreeSet::new();
    let mut open = BTreeSet::new();
    for (_, f) in functions(&t) {
        for event in f["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flat_map(|e| e.values())
        {
            if event["Type"] == "HttpApi" {
                let route = format!(
                    "{} {}",
                    event["Properties"]["Method"].as_str().unwrap(),
                    event["Properties"]["Path"].as_str().unwrap()
                );
                if event["Properties"]["Auth"]["Authorizer"] == "NONE" {
                    open.insert(route.clone());
                }
                routed.insert(route);
            }
        }
    }
    assert_eq!(routed, documented);
    assert_eq!(
        open,
        BTreeSet::from([
            "GET /".to_string(),
            "GET /assets/{file}".to_string(),
            "GET /s/{token}".to_string(),
            "GET /api/health".to_string(),
            "GET /api/shared/{token}".to_string(),
            "POST /api/jobs/process".to_string()
        ])
    );
    assert_eq!(
        t["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"],
        "JwtAuthorizer"
    );
}

/// `{gallery_id}` (axum) → `{galleryId}` (the template and the document).
fn camel_path(path: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in path.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

#[test]
fn each_http_function_serves_exactly_the_routes_the_template_sends_it() {
    use momentarium_shared::http;
    let lists: BTreeMap<&str, Vec<http::Route>> = BTreeMap::from([
        ("health_routes", http::health_routes()),
        ("upload_routes", http::upload_routes()),
        ("processing_routes", http::processing_routes()),
        ("gallery_routes", http::gallery_routes()),
        ("image_routes", http::image_routes()),
        ("job_routes", http::job_routes()),
        ("delivery_routes", http::delivery_routes()),
        ("share_routes", http::share_routes()),
        ("shared_view_routes", http::shared_view_routes()),
        ("account_routes", http::account_routes()),
        ("generation_routes", http::generation_routes()),
        ("search_routes", http::search_routes()),
        ("web_routes", http::web_routes()),
    ]);
    let joined: usize = lists.values().map(Vec::len).sum();
    assert_eq!(joined, http::routes().len(), "a route list is missing here");
    let t = template();
    let mut served = 0;
    for c in crates() {
        let main =
            std::fs::read_to_string(root().join(format!("functions/{c}/src/main.rs"))).unwrap();
        let named: Vec<&str> = lists
            .keys()
            .copied()
            .filter(|name| main.contains(&format!("http::{name}()")))
            .collect();
        let f = &functions(&t)[&logical_id(&c)];
        let sent: BTreeSet<String> = f["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flat_map(|e| e.values())
            .filter(|e| e["Type"] == "HttpApi")
            .map(|e| {
                format!(
                    "{} {}",
                    e["Properties"]["Method"].as_str().unwrap(),
                    e["Properties"]["Path"].as_str().unwrap()
                )
            })
            .collect();
        let routes: BTreeSet<String> = named
            .iter()
            .flat_map(|name| &lists[name])
            .map(|r| format!("{} {}", r.method, camel_path(r.path)))
            .collect();
        assert!(named.len() <= 1, "{c} serves several lists: {named:?}");
        assert_eq!(
            routes, sent,
            "{c}: what its main.rs serves vs what the template sends it"
        );
        served += named.len();
    }
    assert_eq!(
        served,
        lists.len(),
        "every route list is served by a function"
    );
}

#[test]
fn the_bucket_is_private_encrypted_and_expires_unprocessed_uploads() {
    let t = template();
    let b = &t["Resources"]["PhotoBucket"]["Properties"];
    for k in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(b["PublicAccessBlockConfiguration"][k], true, "{k}");
    }
    assert!(b["BucketEncryption"].is_object());
    let rule = b["LifecycleConfiguration"]["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["TagFilters"].is_array())
        .unwrap();
    let tag = format!(
        "{}={}",
        rule["TagFilters"][0]["Key"].as_str().unwrap(),
        rule["TagFilters"][0]["Value"].as_str().unwrap()
    );
    assert_eq!(
        tag,
        momentarium_shared::adapter::s3::PENDING_TAG,
        "the rule matches the tag uploads carry"
    );
    assert!(
        b["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"]
            .as_array()
            .unwrap()
            .contains(&json!("PUT"))
    );
    let headers = b["CorsConfiguration"]["CorsRules"][0]["AllowedHeaders"].to_string();
    assert!(headers.contains("x-amz-tagging") && headers.contains("content-type"));
}

fn tool(name: &str, args: &[&str]) {
    let out = Command::new(name)
        .args(args)
        .current_dir(root())
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`{name}` is needed: pip install cfn-lint aws-sam-cli (./infra/test.sh does): {e}"
            )
        });
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cfn_lint_passes() {
    tool("cfn-lint", &["template.yaml"]);
}

#[test]
fn sam_validate_lint_passes() {
    tool(
        "sam",
        &[
            "validate",
            "--lint",
            "--region",
            "eu-central-1",
            "--template-file",
            "template.yaml",
        ],
    );
}
