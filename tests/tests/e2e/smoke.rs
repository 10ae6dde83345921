use hookbox_tests::hookbox;

#[test]
fn binary_starts_and_exits_zero() {
    let out = hookbox().arg("--help").output().expect("run hookbox");
    assert!(out.status.success(), "{out:?}");
}
