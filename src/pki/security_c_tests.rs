use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sample<'a>(cert: &'a [u8], bs: &'a [u8], lw: &'a [u8], key: &'a [u8]) -> SecurityFileInput<'a> {
    SecurityFileInput {
        endpoint_name: "0161dbbcdd660a580a010c3403c00000",
        account_id: "015843e32ec902420a015e0700000000",
        bootstrap_server_uri: "coaps://bootstrap.example:5684?aid=015843e32ec902420a015e0700000000",
        device_cert_der: cert,
        bootstrap_ca_der: bs,
        lwm2m_ca_der: lw,
        device_private_key_der: key,
    }
}

#[test]
fn byte_arrays_use_the_seed_layout() {
    let bytes: Vec<u8> = (0u8..10).collect();
    let mut out = String::new();
    push_byte_array(&mut out, "X", &bytes);
    assert_eq!(
        out,
        "const uint8_t X[] = \n{ 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,\n 0x08, 0x09 };\n\n"
    );
}

#[test]
fn has_every_symbol_of_the_seed_example_in_order() {
    let c = render_security_c(&sample(&[1], &[2], &[3], &[4]));
    let symbols = [
        "#include <inttypes.h>",
        "const char MBED_CLOUD_DEV_BOOTSTRAP_ENDPOINT_NAME[] = \"0161dbbcdd660a580a010c3403c00000\";",
        "const char MBED_CLOUD_DEV_ACCOUNT_ID[] = \"015843e32ec902420a015e0700000000\";",
        "const char MBED_CLOUD_DEV_BOOTSTRAP_SERVER_URI[] = \"coaps://bootstrap.example:5684?aid=015843e32ec902420a015e0700000000\";",
        "const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE[] = \n{ 0x01 };",
        "const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE[] = \n{ 0x02 };",
        "const uint8_t MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE[] = \n{ 0x03 };",
        "const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY[] = \n{ 0x04 };",
        "const char MBED_CLOUD_DEV_MANUFACTURER[] = \"dev_manufacturer\";",
        "const char MBED_CLOUD_DEV_MODEL_NUMBER[] = \"dev_model_num\";",
        "const char MBED_CLOUD_DEV_SERIAL_NUMBER[] = \"0\";",
        "const char MBED_CLOUD_DEV_DEVICE_TYPE[] = \"dev_device_type\";",
        "const char MBED_CLOUD_DEV_HARDWARE_VERSION[] = \"dev_hardware_version\";",
        "const uint32_t MBED_CLOUD_DEV_MEMORY_TOTAL_KB = 0;",
        "const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE_SIZE = sizeof(MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE);",
        "const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE_SIZE = sizeof(MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE);",
        "const uint32_t MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE_SIZE = sizeof(MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE);",
        "const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY_SIZE = sizeof(MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY);",
        "#endif //__MBED_CLOUD_DEV_CREDENTIALS_H__\n",
    ];
    let mut from = 0;
    for s in symbols {
        let at = c[from..]
            .find(s)
            .unwrap_or_else(|| panic!("missing or out of order: {s}\n{c}"));
        from += at + s.len();
    }
    assert!(c.starts_with("/*\n"));
    assert!(c.contains(
        "#ifndef __MBED_CLOUD_DEV_CREDENTIALS_H__\n#define __MBED_CLOUD_DEV_CREDENTIALS_H__\n"
    ));
}

#[test]
fn strings_are_escaped_for_c() {
    assert_eq!(c_string_body("plain-ID_1"), "plain-ID_1");
    assert_eq!(c_string_body("a\"b\\c"), "a\\\"b\\\\c");
    assert_eq!(c_string_body("x\ny"), "x\\012y");
    assert_eq!(c_string_body("é"), "\\303\\251");
    assert_eq!(c_string_body("??="), "?\\?=");
    assert_eq!(c_string_body("?aid=1"), "?aid=1");
}

/// Compiles the rendered file with gcc next to a C program that dumps every
/// symbol, then checks the dump against the inputs: proves the file is valid C
/// under -Wall -Wextra -Werror and carries the exact bytes.
#[test]
fn compiles_with_gcc_and_carries_the_exact_bytes() {
    if Command::new("gcc").arg("--version").output().is_err() {
        eprintln!("SKIPPED compiles_with_gcc_and_carries_the_exact_bytes: gcc not found on PATH");
        return;
    }
    let dev =
        super::super::DeveloperCert::generate("015843e32ec902420a015e0700000000", "ep-1").unwrap();
    let bootstrap = super::super::ServerCa::generate("Bootstrap CA").unwrap();
    let lwm2m = super::super::ServerCa::generate("LwM2M CA").unwrap();
    let mut input = sample(
        &dev.cert_der,
        bootstrap.cert_der(),
        lwm2m.cert_der(),
        &dev.private_key_der,
    );
    // Hostile characters prove the escaping survives a real compiler.
    input.endpoint_name = "ep\"1\\??=\n\u{e9}";

    let dir = scratch_dir();
    std::fs::write(
        dir.join("mbed_cloud_dev_credentials.c"),
        render_security_c(&input),
    )
    .unwrap();
    std::fs::write(dir.join("main.c"), DUMP_MAIN).unwrap();
    for std in ["-std=gnu11", "-std=c99"] {
        let out = dir.join("dump");
        let status = Command::new("gcc")
            .args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"])
            .arg(&out)
            .arg(dir.join("mbed_cloud_dev_credentials.c"))
            .arg(dir.join("main.c"))
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "gcc {std} failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let run = Command::new(&out).output().unwrap();
        assert!(run.status.success());
        let dump = String::from_utf8(run.stdout).unwrap();
        let expected = [
            ("cert", dev.cert_der.as_slice()),
            ("bootstrap_ca", bootstrap.cert_der()),
            ("lwm2m_ca", lwm2m.cert_der()),
            ("key", dev.private_key_der.as_slice()),
            ("endpoint", input.endpoint_name.as_bytes()),
            ("account", input.account_id.as_bytes()),
            ("uri", input.bootstrap_server_uri.as_bytes()),
        ];
        let got: Vec<(&str, &str)> = dump.lines().filter_map(|l| l.split_once(' ')).collect();
        assert_eq!(got.len(), expected.len(), "{dump}");
        for ((name, bytes), (got_name, got_hex)) in expected.iter().zip(got) {
            assert_eq!(*name, got_name);
            assert_eq!(super::super::encoding::lower_hex(bytes), got_hex, "{name}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn scratch_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir: &Path = &std::env::temp_dir();
    let dir = dir.join(format!("pki-security-c-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sizes come from the `_SIZE` constants, so a wrong constant shows up as a
/// wrong-length dump. Strings are dumped without their terminating NUL.
const DUMP_MAIN: &str = r#"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern const char MBED_CLOUD_DEV_BOOTSTRAP_ENDPOINT_NAME[];
extern const char MBED_CLOUD_DEV_ACCOUNT_ID[];
extern const char MBED_CLOUD_DEV_BOOTSTRAP_SERVER_URI[];
extern const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE[];
extern const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE[];
extern const uint8_t MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE[];
extern const uint8_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY[];
extern const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE_SIZE;
extern const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE_SIZE;
extern const uint32_t MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE_SIZE;
extern const uint32_t MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY_SIZE;
extern const uint32_t MBED_CLOUD_DEV_MEMORY_TOTAL_KB;

static void dump(const char *name, const uint8_t *p, size_t n) {
    size_t i;
    printf("%s ", name);
    for (i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

static void dump_str(const char *name, const char *s) {
    dump(name, (const uint8_t *)s, strlen(s));
}

int main(void) {
    dump("cert", MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE, MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE_SIZE);
    dump("bootstrap_ca", MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE, MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE_SIZE);
    dump("lwm2m_ca", MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE, MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE_SIZE);
    dump("key", MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY, MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY_SIZE);
    dump_str("endpoint", MBED_CLOUD_DEV_BOOTSTRAP_ENDPOINT_NAME);
    dump_str("account", MBED_CLOUD_DEV_ACCOUNT_ID);
    dump_str("uri", MBED_CLOUD_DEV_BOOTSTRAP_SERVER_URI);
    return MBED_CLOUD_DEV_MEMORY_TOTAL_KB == 0 ? 0 : 1;
}
"#;
