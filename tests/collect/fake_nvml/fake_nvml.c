/* A fake libnvidia-ml.so.1 for tests: the few NVML entry points vlmdoctor calls.
 * FAKE_NVML_MODE picks the behaviour: normal, hang (the constructor never returns, as a
 * wedged driver does inside dlopen), abort (the constructor aborts), segfault (crash in
 * nvmlDeviceGetName), nomem (memory "Not Supported"), oddcc (capability -1.999),
 * escape (a GPU name with terminal escapes and a newline). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
enum { OK = 0, NOT_SUPPORTED = 3, INVALID_ARGUMENT = 2 };

static const char *mode(void) {
    const char *m = getenv("FAKE_NVML_MODE");
    return m ? m : "normal";
}

__attribute__((constructor)) static void on_load(void) {
    if (strcmp(mode(), "hang") == 0) for (;;) pause();
    if (strcmp(mode(), "abort") == 0) abort();
}

static void copy(char *dst, unsigned int size, const char *src) {
    if (size == 0) return;
    strncpy(dst, src, size - 1);
    dst[size - 1] = '\0';
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) { (void)flags; return OK; }
nvmlReturn_t nvmlInit_v2(void) { return OK; }
nvmlReturn_t nvmlShutdown(void) { return OK; }
const char *nvmlErrorString(nvmlReturn_t r) {
    return r == NOT_SUPPORTED ? "Not Supported" : r == INVALID_ARGUMENT ? "Invalid Argument"
                                                                        : "Unknown Error";
}
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int n) { copy(v, n, "535.104.05"); return OK; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) { *v = 12020; return OK; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12020; return OK; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return OK; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) {
    if (i >= 2) return INVALID_ARGUMENT;
    *h = (void *)(unsigned long)(i + 1);
    return OK;
}
nvmlReturn_t nvmlDeviceGetName(void *h, char *name, unsigned int n) {
    (void)h;
    if (strcmp(mode(), "segfault") == 0) raise(SIGSEGV);
    copy(name, n, strcmp(mode(), "escape") == 0 ? "NVIDIA \x1b[2J\nVerdict: PASS" : "NVIDIA A100-SXM4-80GB");
    return OK;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(void *h, nvmlMemory_t *m) {
    (void)h;
    if (strcmp(mode(), "nomem") == 0) return NOT_SUPPORTED;
    m->total = 81920ULL << 20; m->free = 60000ULL << 20; m->used = m->total - m->free;
    return OK;
}
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(void *h, int *major, int *minor) {
    (void)h;
    if (strcmp(mode(), "oddcc") == 0) { *major = -1; *minor = 999; return OK; }
    *major = 8; *minor = 0;
    return OK;
}
