//! `esxup report --format xlsx`: the workbook holds the CSV's table. The
//! folder is the built-in examples plus a corrupt file (an error row); the
//! workbook written with `-o` is read back with calamine and every row is
//! compared, cell by cell, with `--format csv` of the same folder. Numbers
//! are numbers, the header row is frozen and filtered (read in the sheet's
//! XML), and a terminal stdout is refused while a redirected one works.

mod common;

use calamine::{Data, Reader};
use std::io::Read;
use std::path::{Path, PathBuf};

const TODAY: &str = "2026-11-26";

fn fleet_dir(dir: &Path) -> PathBuf {
    let d = dir.join("facts");
    std::fs::create_dir_all(&d).unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for e in std::fs::read_dir(&ex).unwrap().filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(d.join("zz-corrupt.json"), b"{\"schema_version\": 1, \"hostname\": ").unwrap();
    d
}

fn report(dir: &Path, args: &[&str]) -> std::process::Command {
    let mut c = common::esxup_on(TODAY);
    c.args(["report", "--facts-dir"]).arg(dir).args(["--target", "8.0U3e"]).args(args);
    c
}

/// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// A cell as the CSV writes it: whole numbers without a decimal point.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => panic!("unexpected cell {other:?}"),
    }
}

#[test]
fn the_workbook_holds_the_csv_table_cell_for_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let csv_out = report(&d, &["--format", "csv"]).output().unwrap();
    assert_eq!(csv_out.status.code(), Some(1), "{}", common::stderr(&csv_out));
    let csv = parse_csv(&String::from_utf8(csv_out.stdout).unwrap());
    let book = tmp.path().join("fleet.xlsx");
    let out = report(&d, &["--format", "xlsx", "-o", book.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "one error row, as the CSV: {}", common::stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(common::stderr(&out).contains("wrote "), "{}", common::stderr(&out));

    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&book).unwrap();
    assert_eq!(wb.sheet_names(), vec!["fleet".to_string()]);
    let range = wb.worksheet_range("fleet").unwrap();
    let (rows, cols) = range.get_size();
    assert_eq!(rows, csv.len(), "a row per CSV line");
    assert!(csv.len() >= 3, "{csv:?}");
    assert_eq!(cols, csv[0].len());
    let build_col = csv[0].iter().position(|h| h == "Build").unwrap();
    let mut numbers = 0;
    for (i, (xrow, crow)) in range.rows().zip(&csv).enumerate() {
        let got: Vec<String> = xrow.iter().map(cell_text).collect();
        // The CSV guards a leading = + - @ with ' against formulas; the
        // workbook writes text cells, which are never formulas.
        let want: Vec<String> = crow
            .iter()
            .map(|c| match c.strip_prefix('\'') {
                Some(r) if r.starts_with(['=', '+', '-', '@']) => r.to_string(),
                _ => c.clone(),
            })
            .collect();
        assert_eq!(got, want, "row {i}");
        if i > 0 && !crow[build_col].is_empty() {
            assert!(
                matches!(xrow[build_col], Data::Float(_)),
                "row {i}: build {:?} is a number",
                xrow[build_col]
            );
            numbers += 1;
        }
        if i > 0 {
            assert!(matches!(xrow[0], Data::String(_)), "row {i}: the host name is text");
        }
    }
    assert!(numbers >= 4, "{numbers}");
    assert!(csv.iter().any(|r| r.iter().any(|c| c.contains("zz-corrupt.json"))), "the error row is in both");

    // The sheet's XML: frozen header row, autofilter over the table, widths.
    let mut z = zip::ZipArchive::new(std::fs::File::open(&book).unwrap()).unwrap();
    let mut xml = String::new();
    z.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""), "{xml}");
    let last_col = (b'A' + (cols as u8 - 1)) as char;
    assert!(xml.contains(&format!("<autoFilter ref=\"A1:{last_col}{rows}\"")), "{xml}");
    assert!(xml.contains("<cols>") && xml.contains("customWidth=\"1\""), "{xml}");
}

#[test]
fn a_redirected_stdout_gets_the_workbook_and_a_terminal_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = fleet_dir(tmp.path());
    let out = report(&d, &["--format", "xlsx"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    assert!(out.stdout.starts_with(b"PK\x03\x04"), "a zip on the pipe");
    let piped = tmp.path().join("piped.xlsx");
    std::fs::write(&piped, &out.stdout).unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&piped).unwrap();
    assert!(wb.worksheet_range("fleet").unwrap().get_size().0 > 1);

    // Standard output on a pseudo-terminal: refused before any work, exit 2.
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors into the integers given.
    let rc = unsafe {
        libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here only.
    let (master, slave) = unsafe {
        use std::os::fd::FromRawFd;
        (std::fs::File::from_raw_fd(master), std::os::fd::OwnedFd::from_raw_fd(slave))
    };
    let out = report(&d, &["--format", "xlsx"]).stdout(std::process::Stdio::from(slave)).output().unwrap();
    drop(master);
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("will not write a binary workbook to the terminal"), "{err}");
    assert!(err.contains("hint: give -o fleet.xlsx"), "{err}");
}
