//! The report page as a tester sees it: rendered by headless Chromium (Debian's `chromium`,
//! installed by `.ci/run`) through a link filtering the failures (`?verdict=failed`), the
//! screenshot shows the failure — the red verdict, the scenario's evidence opened with its
//! failed step — and the reference client's page, through the same link, shows none.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    if found.is_none() {
        assert!(
            std::env::var_os("MSS_REQUIRE_INTEROP").is_none(),
            "chromium is required in CI"
        );
        eprintln!("chromium absent: test skipped");
    }
    found
}

/// Headless, and quiet on a machine without network (no background connections).
const HEADLESS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Renders `page?query` into a PNG, returns its pixels (RGBA) and width.
fn screenshot(browser: &Path, page: &Path, query: &str, work: &Path) -> (Vec<u8>, u32) {
    let shot = work.join(format!("{}.png", query.replace(['=', '&'], "-")));
    let profile = tempfile::tempdir_in(work).expect("profile");
    let url = format!("file://{}?{query}", page.display());
    let out = Command::new(browser)
        .args(HEADLESS)
        .args(["--hide-scrollbars", "--window-size=1400,1000"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        shot.is_file(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot).expect("png"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("png frame");
    pixels.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => pixels,
        png::ColorType::Rgb => pixels
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    (rgba, info.width)
}

/// The page's DOM once its script ran (`--dump-dom`).
fn rendered_dom(browser: &Path, page: &Path, query: &str, work: &Path) -> String {
    let profile = tempfile::tempdir_in(work).expect("profile");
    let out = Command::new(browser)
        .args(HEADLESS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}?{query}", page.display()))
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The opening tag of a requirement's row in a DOM dump.
fn row<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<tr id=\"{id}\""))
        .unwrap_or_else(|| panic!("row {id} missing"));
    let end = dom[start..].find('>').map_or(dom.len(), |e| start + e);
    &dom[start..end]
}

/// How many pixels are (within a shade of) this colour.
fn count(rgba: &[u8], rgb: [u8; 3]) -> usize {
    rgba.chunks(4)
        .filter(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 3))
        .count()
}

/// Background of a « Non conforme » verdict (`.failed` in the page's style).
const FAILED_BACKGROUND: [u8; 3] = [0xfd, 0xe0, 0xe0];
/// Text of a failure: the verdict, the failed step.
const FAILED_TEXT: [u8; 3] = [0x7f, 0x1d, 0x1d];
/// Background of a « Conforme » verdict.
const PASSED_BACKGROUND: [u8; 3] = [0xd9, 0xf2, 0xdf];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_a_failure_with_its_evidence_in_a_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let mut config = support::config();
    config.requirements = vec!["ECO.2.2.1".into()];
    let good = harness::run(config.clone()).await.expect("run");
    let bad = harness::run(config.with_defect(client::Defect::NoMessageId))
        .await
        .expect("run");
    for (name, results) in [("reference", &good), ("mutant", &bad)] {
        harness::report::write_all(results, &work.path().join(name)).expect("reports");
    }

    let (bad_shot, width) = screenshot(
        &browser,
        &work.path().join("mutant/index.html"),
        "verdict=failed",
        work.path(),
    );
    assert!(width >= 1000, "{width}");
    let (good_shot, _) = screenshot(
        &browser,
        &work.path().join("reference/index.html"),
        "verdict=failed",
        work.path(),
    );
    // The failure is on screen: its red verdict badges (requirement and finding) and its
    // dark-red text (the failed step of the opened evidence).
    let red = count(&bad_shot, FAILED_BACKGROUND);
    let red_text = count(&bad_shot, FAILED_TEXT);
    assert!(red > 500, "failure badges on screen: {red} pixels");
    assert!(red_text > 200, "failure text on screen: {red_text} pixels");
    // What is on screen is the failure's row with its finding: the filter of the link hid the
    // other rows, once the page's script ran.
    let dom = rendered_dom(
        &browser,
        &work.path().join("mutant/index.html"),
        "verdict=failed",
        work.path(),
    );
    assert!(
        !row(&dom, "ECO.2.2.1").contains("display: none"),
        "{}",
        row(&dom, "ECO.2.2.1")
    );
    assert!(row(&dom, "ECO.1.0.1").contains("display: none"));
    assert!(dom.contains("Message-ID est absent"));
    // The reference client's page through the same link: its green count, no failure.
    assert_eq!(count(&good_shot, FAILED_BACKGROUND), 0);
    assert!(count(&good_shot, PASSED_BACKGROUND) > 500);
}
