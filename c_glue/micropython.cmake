# microATsocket as a MicroPython user C module (CMake-based ports: esp32, rp2).
#
#   make USER_C_MODULES=<path to this file, or a micropython.cmake including it>
#
# The Rust core must be built for the port's target first, without the `std`
# feature, e.g. for rp2 (Cortex-M0+):
#   cargo build --release -p microatsocket --target thumbv6m-none-eabi
# and MICROATSOCKET_LIB set to the resulting libmicroatsocket.a (below it
# defaults to that rp2 path). No Xtensa Rust toolchain is assumed here; ESP32
# builds need Espressif's, installed on the board owner's machine.

add_library(usermod_microatsocket INTERFACE)

get_filename_component(MICROATSOCKET_REPO ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
if(NOT DEFINED MICROATSOCKET_LIB)
    set(MICROATSOCKET_LIB ${MICROATSOCKET_REPO}/target/thumbv6m-none-eabi/release/libmicroatsocket.a)
endif()

target_sources(usermod_microatsocket INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modmicroatsocket.c
    ${CMAKE_CURRENT_LIST_DIR}/socket_type.c
    ${CMAKE_CURRENT_LIST_DIR}/original_api.c
    ${CMAKE_CURRENT_LIST_DIR}/original_methods.c
    ${CMAKE_CURRENT_LIST_DIR}/socket_stream.c
    ${CMAKE_CURRENT_LIST_DIR}/socket_common.c
    ${CMAKE_CURRENT_LIST_DIR}/ssl.c
    ${CMAKE_CURRENT_LIST_DIR}/ssl_creds.c
    ${CMAKE_CURRENT_LIST_DIR}/ssl_store.c
    ${CMAKE_CURRENT_LIST_DIR}/getaddrinfo.c
    ${CMAKE_CURRENT_LIST_DIR}/addrargs.c
    ${CMAKE_CURRENT_LIST_DIR}/config.c
    ${CMAKE_CURRENT_LIST_DIR}/modem.c
    ${CMAKE_CURRENT_LIST_DIR}/oprun.c
    ${CMAKE_CURRENT_LIST_DIR}/lock.c
    ${CMAKE_CURRENT_LIST_DIR}/trace.c
    ${CMAKE_CURRENT_LIST_DIR}/probe.c
    ${CMAKE_CURRENT_LIST_DIR}/vm.c
    ${CMAKE_CURRENT_LIST_DIR}/transport_mpcall.c
    ${CMAKE_CURRENT_LIST_DIR}/errors.c
)

target_include_directories(usermod_microatsocket INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
    ${MICROATSOCKET_REPO}/include
)

target_link_libraries(usermod_microatsocket INTERFACE ${MICROATSOCKET_LIB})

target_link_libraries(usermod INTERFACE usermod_microatsocket)
