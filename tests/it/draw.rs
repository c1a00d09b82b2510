//! `snapsim draw` and `snapsim trace`: the space-time diagram of the token example and of a
//! shrunk failing run, checked by its structure and rendered to PNG in headless Chromium
//! where it is installed; the Chrome trace-event and JSON-lines exports.

use crate::support::load;
use assert_cmd::Command;
use snapsim::explore::run::RunSpec;
use snapsim::explore::run_file::RunFile;
use snapsim::explore::shrink::{ShrinkBudget, shrink};
use snapsim::kernel::rng::Seed;
use snapsim::plant::PlantedBug;
use std::path::Path;
use tempfile::TempDir;

/// `snapsim <args>`: (exit code, stdout, stderr).
fn snapsim(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("snapsim")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SNAPSIM_SEED")
        .args(args)
        .output()
        .expect("snapsim runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    (output.status.code().expect("an exit code"), text(output.stdout), text(output.stderr))
}

/// `snapsim draw <args>`.
fn draw(args: &[&str]) -> (i32, String, String) {
    snapsim(&[&["draw"], args].concat())
}

/// `snapsim trace <args>`.
fn trace(args: &[&str]) -> (i32, String, String) {
    snapsim(&[&["trace"], args].concat())
}

fn count(svg: &str, class: &str) -> usize {
    svg.matches(&format!("class=\"{class}\"")).count()
}

#[test]
fn the_token_example_draws_two_lanes_its_markers_and_its_cut() {
    let dir = TempDir::new().expect("a directory");
    let out = dir.path().join("token.svg");
    let (code, stdout, stderr) = draw(&["sims/token.toml", "-o", out.to_str().expect("UTF-8")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let svg = std::fs::read_to_string(&out).expect("the diagram");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(count(&svg, "lane"), 2, "one lane per process");
    assert!(count(&svg, "barrier") >= 2, "the markers cross both ways");
    assert!(count(&svg, "snapshot") >= 2 && count(&svg, "cut") >= 1);
    assert_eq!(count(&svg, "violation"), 0);
    // Drawn again, the name is taken: the second diagram goes next to it, same bytes.
    let (code, stdout, _) = draw(&["sims/token.toml", "-o", out.to_str().expect("UTF-8")]);
    assert_eq!(code, 0);
    assert!(stdout.contains("token-2.svg"), "{stdout}");
    assert_eq!(std::fs::read_to_string(dir.path().join("token-2.svg")).expect("the copy"), svg);
}

/// A shrunk failing run of wordcount with a recovery bug, written as a run file.
fn shrunk_failure(dir: &Path) -> std::path::PathBuf {
    let spec =
        RunSpec { plants: vec![PlantedBug::ForgetSourceRewind], ..RunSpec::new(load("sims/wordcount.toml"), Seed(1)) };
    let file = RunFile::record(&spec, "a planted recovery bug").expect("a valid spec");
    let shrunk = shrink(&file, ShrinkBudget { attempts: 40 }).expect("it shrinks");
    let path = dir.join("shrunk.snaprun");
    std::fs::write(&path, shrunk.file.encode()).expect("written");
    path
}

#[test]
fn a_shrunk_failing_run_draws_its_crash_restore_and_violation() {
    let dir = TempDir::new().expect("a directory");
    let run_file = shrunk_failure(dir.path());
    let out = dir.path().join("failure.html");
    let (code, stdout, stderr) = draw(&[run_file.to_str().expect("UTF-8"), "-o", out.to_str().expect("UTF-8")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let html = std::fs::read_to_string(&out).expect("the page");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(count(&html, "violation"), 1);
    assert!(html.contains("restore-equivalence") && html.contains("source["), "names the invariant and the task");
    assert!(count(&html, "crash") >= 1 && count(&html, "restore") >= 1);
}

#[test]
fn a_diagram_renders_to_png_in_headless_chromium() {
    let dir = TempDir::new().expect("a directory");
    let page = dir.path().join("failure.html");
    let (code, stdout, stderr) =
        draw(&["docs/diagrams/skip-recommit-after-recovery.snaprun", "-o", page.to_str().expect("UTF-8")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    render_to_png(&page, dir.path());
}

/// Renders `page` to PNG in headless Chromium, as `.ci/run` installs it from Debian's
/// packages; where it is absent, says so on stderr (the test then checks no picture).
fn render_to_png(page: &Path, dir: &Path) {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("SKIPPED the PNG rendering: /usr/bin/chromium is absent (apt-get install chromium)");
        return;
    }
    let png = dir.join("failure.png");
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1650,900",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 20_000, "a picture, not a blank page: {} bytes", bytes.len());
}

#[test]
fn bad_draw_flags_are_bad_input_and_write_nothing() {
    let dir = TempDir::new().expect("a directory");
    let out = |name: &str| dir.path().join(name).to_str().expect("UTF-8").to_string();
    for (args, part) in [
        (vec!["sims/token.toml".to_string(), "-o".to_string(), out("a.pdf")], "write a .svg or an .html"),
        (
            vec![
                "sims/token.toml".to_string(),
                "-o".to_string(),
                out("a.svg"),
                "--tasks".to_string(),
                "nobody".to_string(),
            ],
            "--tasks",
        ),
        (
            vec![
                "sims/token.toml".to_string(),
                "-o".to_string(),
                out("a.svg"),
                "--from".to_string(),
                "soon".to_string(),
            ],
            "--from",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = draw(&args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(part) && stderr.lines().count() == 1, "{stderr}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("the directory").count(), 0);
}

#[test]
fn a_run_exports_as_chrome_trace_events_and_as_json_lines() {
    let dir = TempDir::new().expect("a directory");
    let chrome = dir.path().join("token.json");
    let (code, stdout, stderr) = trace(&["sims/token.toml", "-o", chrome.to_str().expect("UTF-8")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&chrome).expect("written")).expect("JSON");
    let events = json["traceEvents"].as_array().expect("the trace-event object format");
    let phases = |ph: &str| events.iter().filter(|event| event["ph"] == ph).count();
    assert!(phases("M") >= 3 && phases("X") >= 2, "tracks and spans");
    assert_eq!(phases("s"), phases("f"), "every flow starts and finishes");
    assert!(events.iter().all(|event| event["ph"] == "M" || event["ts"].as_f64().is_some()));
    let lines = dir.path().join("token.jsonl");
    let (code, _, _) = trace(&["sims/token.toml", "--format", "jsonl", "-o", lines.to_str().expect("UTF-8")]);
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&lines).expect("written");
    let (_, report, _) = snapsim(&["run", "sims/token.toml"]);
    let facts: usize = report
        .lines()
        .find_map(|line| line.strip_prefix("facts"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a fact count");
    assert_eq!(text.lines().count(), facts, "one line per fact");
}

#[test]
fn plots_render_a_run_every_protocol_side_by_side_and_a_sweep_summary() {
    let dir = TempDir::new().expect("a directory");
    let path = |name: &str| dir.path().join(name).to_str().expect("UTF-8").to_string();
    let (code, stdout, stderr) = snapsim(&["plot", "sims/wordcount.toml", "-o", &path("run.svg")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let run = std::fs::read_to_string(path("run.svg")).expect("the plot");
    assert_eq!(count(&run, "panel"), 4, "duration, alignment, state bytes, channel state");
    assert!(count(&run, "bar") >= 8, "bars for the completed checkpoints");
    let (code, _, _) = snapsim(&["plot", "sims/wordcount.toml", "--compare", "-o", &path("compare.svg")]);
    assert_eq!(code, 0);
    let compare = std::fs::read_to_string(path("compare.svg")).expect("the plot");
    for protocol in ["aligned", "unaligned", "chandy-lamport", "at-least-once"] {
        assert!(compare.contains(&format!(">{protocol}</text>")), "{protocol} in the legend");
    }
    let summary = path("summary.json");
    let (code, _, _) = snapsim(&[
        "sweep",
        "tests/data/minimal.toml",
        "--seeds",
        "0..8",
        "--swarm",
        "--no-progress",
        "--json",
        &summary,
        "--failures",
        &path("failures"),
    ]);
    assert_eq!(code, 0);
    let (code, stdout, stderr) = snapsim(&["plot", &summary, "-o", &path("sweep.svg")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(std::fs::read_to_string(path("sweep.svg")).expect("the plot").contains("cells hit"));
    let (code, _, stderr) = snapsim(&["plot", "sims/wordcount.toml", "-o", &path("plot.png")]);
    assert_eq!(code, 2);
    assert!(stderr.contains(".svg"), "{stderr}");
}

#[test]
fn the_guide_s_diagram_still_shows_its_failure() {
    // docs/guide.md draws this shrunk zoo failure: its run file must still fail the same way.
    let file =
        RunFile::decode(&std::fs::read("docs/diagrams/skip-recommit-after-recovery.snaprun").expect("checked in"))
            .expect("a run file this build reads");
    let replayed = snapsim::explore::run::run_spec(&file.spec, false).expect("a valid spec");
    assert_eq!(replayed.verdict.failure_class().as_deref(), Some("end-to-end-exactly-once"));
    let svg = std::fs::read_to_string("docs/diagrams/skip-recommit-after-recovery.svg").expect("checked in");
    assert_eq!(count(&svg, "violation"), 1);
    assert!(count(&svg, "aborted") >= 1 && count(&svg, "pre-committed") >= 2);
}
