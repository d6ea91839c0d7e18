//! The seed case end to end against the embedded knowledge base.

use esxup_check::{check, examples, TargetSpec, Verdict};
use esxup_kb::Kb;
use esxup_version::Date;

fn today() -> Date {
    "2026-01-15".parse().unwrap()
}

#[test]
fn seed_reports_back_in_time_rollback_and_iso() {
    let kb = Kb::embedded().expect("embedded kb");
    let facts = examples::get("seed").expect("seed example");
    let spec: TargetSpec = "7.0U2a".parse().unwrap();
    let r = check(kb, &facts, &spec, None, today()).expect("check runs");
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r.target.release.build, 17867351);
    assert_eq!(r.verdict, Verdict::Blocked);
    let bit = r.finding("BACK_IN_TIME").expect("BACK_IN_TIME finding");
    assert_eq!(bit.args["current_date"], "2021-11-23");
    assert_eq!(bit.args["target_date"], "2021-04-29");
    assert_eq!(r.method.kind, esxup_check::MethodKind::Iso);
    assert!(r.method.required);
    let rec = r.recommendation.as_ref().expect("recommendation");
    let rb = rec.rollback.as_ref().expect("rollback route");
    assert_eq!(rb.build, 17700523);
    assert_eq!(rb.release.as_ref().unwrap().date.to_string(), "2021-03-18");
    assert_eq!(rb.back_in_time_safe, Some(true));
    let best = rec.best.as_ref().expect("a working alternative");
    assert!(best.build >= 19193900, "alternative {best:?} should be 7.0 U3c or later");
}
