/* ProcessPrng for Wine 8, which lacks it (Wine 9.x added it). Rust's std on Windows and recent
 * Node builds import it from bcryptprimitives.dll; the tests run them under Wine with this DLL in
 * the Wine prefix's system32. Built by scripts/wine.js with mingw-w64. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
