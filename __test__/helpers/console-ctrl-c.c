/* Test helper for the win32 Ctrl-C test (cross-win32.test.js), built with mingw-w64 and run under
 * Wine on the same console as the companion command. It presses Ctrl-C on that console the way a
 * Windows console delivers it to a program that turned ENABLE_PROCESSED_INPUT off: a key event
 * with the character 3. (Under Wine a pty cannot do this: with the pty's ISIG on, ^C becomes
 * SIGINT before the console sees it; with ISIG off, Wine 8's conhost treats ^C as the end of its
 * input and stops reading.)
 *
 * Usage: console-ctrl-c.exe <log file>. It waits until the console input mode has echo, line and
 * processed input off (the prompt is up), writes the key press and release, then waits for the
 * Ctrl-C event the prompt sends to every process on the console, and logs, one "key value" line
 * each:  prompt-mode 0x..   ctrl-c-written 2   ctrl-event 0   mode-at-ctrl-event 0x..
 * The mode is read when the event arrives, not polled: the prompt's process ends within
 * milliseconds of sending it. This program exits once it has logged the event (or after 10 s).
 */
#include <stdio.h>
#include <windows.h>

#define PROMPT_BITS (ENABLE_ECHO_INPUT | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT)

static FILE *log_file;
static HANDLE console_in;
static HANDLE ctrl_seen;

static void note(const char *key, unsigned long value) {
    fprintf(log_file, "%s %#lx\n", key, value);
    fflush(log_file);
}

static BOOL WINAPI on_ctrl(DWORD event) {
    DWORD mode = 0;
    note("ctrl-event", event);
    note("mode-at-ctrl-event", GetConsoleMode(console_in, &mode) ? mode : 0xffffffff);
    SetEvent(ctrl_seen);
    return TRUE;
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
    if (argc < 2 || !(log_file = fopen(argv[1], "w"))) return 2;
    HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                            OPEN_EXISTING, 0, NULL);
    if (in == INVALID_HANDLE_VALUE) {
        note("no-console", GetLastError());
        return 3;
    }
    console_in = in;
    ctrl_seen = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(on_ctrl, TRUE);
    DWORD mode = wait_for_prompt(in);
    note("prompt-mode", mode);
    if (!prompt_up(mode)) return 4;

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
    /* The Ctrl-C event arrives on a thread of its own (on_ctrl); this one only waits for it. */
    return WaitForSingleObject(ctrl_seen, 10000) == WAIT_OBJECT_0 ? 0 : 5;
}
