use std::time::Duration;
use monarch_sim::{Monarch, SimConfig};

#[test]
fn at_ok() {
    let sim = Monarch::start(SimConfig::default()).unwrap();
    let uart = sim.uart();
    uart.write(b"AT\r");
    let mut buf = [0u8; 64];
    let n = uart.read(&mut buf, Duration::from_secs(2));
    assert_eq!(&buf[..n], b"\r\nOK\r\n");
}
