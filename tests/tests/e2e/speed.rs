//! A guard on the bundled shell's speed that cannot flake: the instructions (fuel) a fixed
//! script costs are deterministic for a given shell module, whatever the machine does
//! meanwhile. A change that makes the interpreter's hot paths (arithmetic, string slicing,
//! variable lookup, loop dispatch) twice as expensive fails here with both figures; a change
//! that makes them cheaper should lower `MEASURED` in the same commit. Speed itself is measured
//! in BENCHMARKS.md, never asserted.

use hookbox::plan::HookProgram;
use hookbox::runner::Exit;

use super::sandbox::{run, Fixture};

/// Arithmetic, `${v:o:l}` slicing and appends, 2,000 times.
const LOOP: &str = r#"s=; n=0
for ((i = 0; i < 2000; i++)); do
  s="$s${i:0:1}"
  (( n += i % 7 ))
done
echo "${#s} $n""#;

/// Instructions the loop costs (the shell at opt-level 3; 136,666,162 on 2026-12-03, before
/// FxHash'd names, the fd table kept per command and the xtrace text built only under
/// `set -x`, 2026-12-04).
const MEASURED: u64 = 53_669_940;

#[tokio::test]
async fn a_fixed_shell_loop_costs_at_most_twice_its_measured_instructions() {
    let fx = Fixture::new();
    let mut inv = fx.probe(&[]);
    inv.program = HookProgram::Command(LOOP.into());
    let (report, out) = run(&inv).await;
    assert_eq!(report.exit, Exit::Code(0), "{}", out.stderr());
    assert_eq!(out.stdout().trim(), "2000 5995");
    let used = report.instructions.expect("the test runner meters fuel");
    assert!(
        used <= 2 * MEASURED,
        "the loop cost {used} instructions, more than twice the {MEASURED} measured when this \
         guard was written: something in the interpreter's hot path got much slower"
    );
    assert!(
        used * 2 >= MEASURED,
        "the loop cost {used} instructions, under half the {MEASURED} measured: lower MEASURED \
         to keep the guard tight"
    );
}
