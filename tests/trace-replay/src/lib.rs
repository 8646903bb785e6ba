//! Traces of microATsocket (`microATsocket.trace()`): the format, a replay through the core with
//! no modem, and a comparison of a trace's answers with the simulator's.
pub mod format;
pub mod replay;
pub mod simdiff;
