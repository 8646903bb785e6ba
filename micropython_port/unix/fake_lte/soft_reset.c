/*
 * Pycom's soft reset (Ctrl-D at the REPL, or a script's end followed by one),
 * emulated on the unix port, which has none.
 *
 *     MICROATSOCKET_SOFT_RESET_THEN=b.py micropython a.py
 *
 * runs a.py, then does in the same process what Pycom's firmware does between
 * two VMs, then runs b.py. The firmware (pycom-micropython-sigfox, tags
 * v1.20.2.r6, v1.20.1, v1.18.2.r7: esp32/mptask.c, TASK_Micropython) does, in
 * this order:
 *
 *   soft_reset_exit: (v1.20.2.r6 lines 366-383)
 *     machtimer_deinit(); mp_irq_kill(); mp_thread_deinit(): every other
 *       MicroPython thread is deleted with vTaskDelete wherever it is
 *       (esp32/mpthreadport.c mp_thread_deinit) -- no finaliser runs;
 *     mpsleep_signal_soft_reset(); prints "PYB: soft reboot"; a 5 ms busy wait;
 *     uart_deinit_all(); rmt_deinit_rgb(); then back to
 *   soft_reset: (lines 215-246)
 *     mp_thread_init(); gc_init() on the same pool; mp_init(); sys.path and
 *       sys.argv made anew; the ports' *_init0() (network, bt, timers, pycom).
 *     modlte_init0() runs only when !soft_reset (lines 293-300): the LTE task
 *       and its queues, and every C static, survive.
 *   MicroPython 1.11's mp_init() re-makes the loaded-modules dict and
 *   dict_main; it does not clear a port's root pointers, and there is no
 *   gc_sweep_all(), so no finaliser ever runs for the old heap's objects.
 *
 * Here, after a.py has ended (this replaces the unix main's own
 * mp_thread_deinit(), reached only after the script), the same steps:
 *   1. mp_thread_deinit(): the unix port cancels every other thread
 *      (pthread_cancel, its vTaskDelete); they are waited for until gone (the
 *      firmware's vTaskDelay(2) lets FreeRTOS reap them). The fake LTE task
 *      holds cancellation off while it works on an item (fake_lteppp.c), as
 *      the firmware's task is not deleted;
 *   2. "PYB: soft reboot" is printed;
 *   3. mp_thread_init(); the registered root pointers are cleared (a new
 *      board process has them zero; mp_init() sets the rest), unless
 *      KEEP_ROOTS_ENV asks to leave them as mp_init() does; gc_init() on a
 *      pool; mp_init(); the VFS, sys.path and sys.argv as the unix main makes
 *      them; no finaliser runs and no C static is touched;
 *   4. b.py runs; its status is the process's exit status.
 * One deliberate difference: b.py gets a fresh pool, and the pages of a.py's
 * pool are made inaccessible. On the board the same pool is reused, so a C
 * static still naming an a.py object silently reads whatever b.py put there;
 * here such an access faults at once (SIGSEGV, or an ASan report), in every
 * build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/compile.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/mpthread.h"
#include "py/objlist.h"
#include "py/runtime.h"
#include "extmod/vfs.h"
#include "extmod/vfs_posix.h"

#define SOFT_RESET_ENV "MICROATSOCKET_SOFT_RESET_THEN"
/* Set (to anything): the registered root pointers keep the previous VM's values, as after an
 * mp_init() that leaves them alone (1.11's, and upstream's on ports that soft-reset): a root
 * pointer into the old pool is then a stale pointer a module must not follow. */
#define KEEP_ROOTS_ENV "MICROATSOCKET_SOFT_RESET_KEEP_ROOTS"
/* How long the cancelled threads get to go (each is at a cancellation point
 * within a few ms: a sleep, a poll, a wait for the engine). */
#define THREADS_GONE_WAIT_MS (3000)

void __real_mp_thread_deinit(void);

static bool reset_done;

static size_t threads_alive(void) {
    size_t count = 0;
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return 1;
    }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') {
            count++;
        }
    }
    closedir(dir);
    return count;
}

static void wait_for_threads_gone(void) {
    for (int waited = 0; threads_alive() > 1; waited++) {
        if (waited >= THREADS_GONE_WAIT_MS) {
            fprintf(stderr, "soft reset: %u threads of the previous VM are still running\n",
                (unsigned)(threads_alive() - 1));
            exit(3);
        }
        usleep(1000);
    }
}

/* The previous pool's whole pages: no access from now on. */
static void previous_pool_out_of_reach(void) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)MP_STATE_MEM(area).gc_alloc_table_start;
    uintptr_t end = (uintptr_t)MP_STATE_MEM(area).gc_pool_end;
    uintptr_t first = (start + page - 1) & ~(page - 1);
    uintptr_t last = end & ~(page - 1);
    if (last > first && mprotect((void *)first, last - first, PROT_NONE) != 0) {
        perror("soft reset: mprotect");
        exit(3);
    }
}

static void *new_pool(size_t size) {
    void *pool = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pool == MAP_FAILED) {
        perror("soft reset: mmap");
        exit(3);
    }
    return pool;
}

/* Registered root pointers (MP_REGISTER_ROOT_POINTER: the port's and every
 * module's) as a new process has them: zero. mp_init() sets the others. */
static void clear_registered_root_pointers(void) {
    #if MICROPY_CAN_OVERRIDE_BUILTINS
    char *first = (char *)(&MP_STATE_VM(mp_module_builtins_override_dict) + 1);
    #else
    char *first = (char *)(&MP_STATE_VM(dict_main) + 1);
    #endif
    char *end = (char *)&MP_STATE_VM(qstr_last_chunk);
    memset(first, 0, (size_t)(end - first));
}

/* What the unix main sets up after mp_init() (ports/unix/main.c). */
static void vm_environment(const char *script) {
    #if MICROPY_VFS_POSIX
    mp_obj_t args[2] = {
        MP_OBJ_TYPE_GET_SLOT(&mp_type_vfs_posix, make_new)(&mp_type_vfs_posix, 0, 0, NULL),
        MP_OBJ_NEW_QSTR(MP_QSTR__slash_),
    };
    mp_vfs_mount(2, args, (mp_map_t *)&mp_const_empty_map);
    MP_STATE_VM(vfs_cur) = MP_STATE_VM(vfs_mount_table);
    while (MP_STATE_VM(vfs_cur)->next != NULL) {
        MP_STATE_VM(vfs_cur) = MP_STATE_VM(vfs_cur)->next;
    }
    #endif
    mp_sys_path = mp_obj_new_list(0, NULL);
    const char *slash = strrchr(script, '/');
    mp_obj_list_append(mp_sys_path, slash == NULL ? MP_OBJ_NEW_QSTR(MP_QSTR_)
        : mp_obj_new_str(script, (size_t)(slash - script)));
    const char *path = getenv("MICROPYPATH");
    if (path == NULL) {
        path = MICROPY_PY_SYS_PATH_DEFAULT;
    }
    while (*path != '\0') {
        const char *colon = strchr(path, ':');
        size_t len = colon == NULL ? strlen(path) : (size_t)(colon - path);
        if (len > 0 && path[0] != '~') {
            mp_obj_list_append(mp_sys_path, mp_obj_new_str(path, len));
        }
        path += len + (colon != NULL);
    }
    mp_obj_list_init(MP_OBJ_TO_PTR(mp_sys_argv), 0);
    mp_obj_list_append(mp_sys_argv, mp_obj_new_str(script, strlen(script)));
}

/* Runs `script` in the new VM: 0, the SystemExit status, or 1 after an
 * uncaught exception (printed with its traceback). */
static int run_script(const char *script) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        vm_environment(script);
        mp_lexer_t *lex = mp_lexer_new_from_file(qstr_from_str(script));
        qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t module_fun = mp_compile(&tree, source_name, false);
        mp_call_function_0(module_fun);
        nlr_pop();
        return 0;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        return code == mp_const_none ? 0 : (int)mp_obj_get_int(code) & 0xff;
    }
    mp_obj_print_exception(&mp_plat_print, exc);
    return 1;
}

/* The unix main calls this once, after its script; with SOFT_RESET_ENV set,
 * that is the moment of the soft reset. */
void __wrap_mp_thread_deinit(void) {
    const char *then = getenv(SOFT_RESET_ENV);
    if (then == NULL || reset_done) {
        __real_mp_thread_deinit();
        return;
    }
    reset_done = true;
    fflush(stdout);

    /* soft_reset_exit: */
    __real_mp_thread_deinit();
    wait_for_threads_gone();
    mp_printf(&mp_plat_print, "PYB: soft reboot\n");

    /* soft_reset: */
    mp_thread_init();
    size_t pool_size = (size_t)(MP_STATE_MEM(area).gc_pool_end - MP_STATE_MEM(area).gc_alloc_table_start);
    previous_pool_out_of_reach();
    if (getenv(KEEP_ROOTS_ENV) == NULL) {
        clear_registered_root_pointers();
    }
    char *pool = new_pool(pool_size);
    gc_init(pool, pool + pool_size);
    mp_init();
    int status = run_script(then);

    /* The unix main's own end, for b.py. */
    fflush(stdout);
    __real_mp_thread_deinit();
    mp_deinit();
    exit(status);
}
