/* Test helper for the win32 Ctrl-C test (cross-win32.test.js), built with mingw-w64 and run under
 * Wine on the same console as the companion command. It presses Ctrl-C on that console the way a
 * Windows console delivers it to a program that turned ENABLE_PROCESSED_INPUT off: a key event
 * with the character 3. (Under Wine a pty cannot do this: with the pty's ISIG on, ^C becomes
 * SIGINT before the console sees it; with ISIG off, Wine 8's conhost treats ^C as the end of its
 * input and stops reading.)
 *
 * Usage: console-ctrl-c.exe <log file>, started on the console by the program that prompts (its
 * parent). That parent is Node, which puts its children in a job that kills them when it ends,
 * while this program has to see it end: so it starts a copy of itself (outside the job: Node's
 * job lets children's children break away) and exits. The copy waits until the console input
 * mode has echo, line and processed input off (the prompt is up), writes the key press and
 * release, waits for the Ctrl-C event the prompt then sends to every process on the console and
 * for the parent to end, and logs, one "key value" line each:
 *   prompt-mode 0x..   ctrl-c-written 0x2   ctrl-event 0   parent-ended 0x1   final-mode 0x..
 * The final mode is read once the parent has ended: the mode it left the console in. The log is
 * written as <log file>.part and renamed to <log file> at the end, so that the test can wait for
 * it: under a pty, the programs on the console are hung up when the session ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <tlhelp32.h>

#define PROMPT_BITS (ENABLE_ECHO_INPUT | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT)

static FILE *log_file;
static char log_part[MAX_PATH + 8];
static const char *log_name;
static HANDLE ctrl_seen;

static void note(const char *key, unsigned long value) {
    fprintf(log_file, "%s %#lx\n", key, value);
    fflush(log_file);
}

static BOOL WINAPI on_ctrl(DWORD event) {
    note("ctrl-event", event);
    SetEvent(ctrl_seen);
    return TRUE;
}

/* The id of the process that started this one, or 0. */
static DWORD parent_id(void) {
    DWORD self = GetCurrentProcessId(), parent = 0;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    PROCESSENTRY32W entry = {.dwSize = sizeof entry};
    for (BOOL more = Process32FirstW(snap, &entry); more; more = Process32NextW(snap, &entry)) {
        if (entry.th32ProcessID == self) parent = entry.th32ParentProcessID;
    }
    CloseHandle(snap);
    return parent;
}

/* Starts `<this program> <log> <parent id>` on the same console. */
static int start_copy(const char *log) {
    char self[MAX_PATH], command[3 * MAX_PATH];
    STARTUPINFOA startup = {.cb = sizeof startup};
    PROCESS_INFORMATION started;
    if (!GetModuleFileNameA(NULL, self, sizeof self)) return 6;
    snprintf(command, sizeof command, "\"%s\" \"%s\" %lu", self, log, parent_id());
    if (!CreateProcessA(self, command, NULL, NULL, FALSE, 0, NULL, NULL, &startup, &started)) return 6;
    CloseHandle(started.hThread);
    CloseHandle(started.hProcess);
    return 0;
}

/* Publishes the log under its final name and returns `code`. */
static int finish(int code) {
    fclose(log_file);
    MoveFileExA(log_part, log_name, MOVEFILE_REPLACE_EXISTING);
    return code;
}

static int prompt_up(DWORD mode) { return (mode & PROMPT_BITS) == 0; }

/* Polls the console input mode every 50 ms, for up to a minute, until the prompt is up. */
static DWORD wait_for_prompt(HANDLE in) {
    DWORD mode = 0;
    for (int i = 0; i < 1200; i++) {
        if (GetConsoleMode(in, &mode) && prompt_up(mode)) break;
        Sleep(50);
    }
    return mode;
}

int main(int argc, char **argv) {
    if (argc < 2 || strlen(argv[1]) > MAX_PATH) return 2;
    if (argc == 2) return start_copy(argv[1]);
    log_name = argv[1];
    snprintf(log_part, sizeof log_part, "%s.part", log_name);
    if (!(log_file = fopen(log_part, "w"))) return 2;
    HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                            OPEN_EXISTING, 0, NULL);
    if (in == INVALID_HANDLE_VALUE) {
        note("no-console", GetLastError());
        return finish(3);
    }
    HANDLE parent = OpenProcess(SYNCHRONIZE, FALSE, strtoul(argv[2], NULL, 10));
    ctrl_seen = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(on_ctrl, TRUE);
    DWORD mode = wait_for_prompt(in);
    note("prompt-mode", mode);
    if (!prompt_up(mode)) return finish(4);

    INPUT_RECORD keys[2];
    ZeroMemory(keys, sizeof keys);
    for (int i = 0; i < 2; i++) {
        KEY_EVENT_RECORD *k = &keys[i].Event.KeyEvent;
        keys[i].EventType = KEY_EVENT;
        k->bKeyDown = i == 0;
        k->wRepeatCount = 1;
        k->wVirtualKeyCode = 'C';
        k->wVirtualScanCode = (WORD)MapVirtualKeyW('C', MAPVK_VK_TO_VSC);
        k->uChar.UnicodeChar = 3;
        k->dwControlKeyState = LEFT_CTRL_PRESSED;
    }
    DWORD written = 0;
    WriteConsoleInputW(in, keys, 2, &written);
    note("ctrl-c-written", written);
    /* The Ctrl-C event arrives on a thread of its own (on_ctrl). */
    BOOL seen = WaitForSingleObject(ctrl_seen, 10000) == WAIT_OBJECT_0;
    BOOL ended = parent && WaitForSingleObject(parent, 10000) == WAIT_OBJECT_0;
    note("parent-ended", ended);
    note("final-mode", GetConsoleMode(in, &mode) ? mode : 0xffffffff);
    return finish(seen && ended ? 0 : 5);
}
