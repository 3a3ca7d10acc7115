/* A fake libnvidia-ml.so.1 for tests: the few NVML entry points vlmdoctor calls.
 * FAKE_NVML_MODE picks the behaviour: normal, hang (the constructor never returns, as a
 * wedged driver does inside dlopen), abort (the constructor aborts), segfault (crash in
 * nvmlDeviceGetName), nomem (memory "Not Supported"), oddcc (capability -1.999),
 * escape (a GPU name with terminal escapes and a newline); per-device faults on one of the
 * two GPUs the count reports: lost-handle, lost-name, lost-memory (GPU 1 answers
 * NVML_ERROR_GPU_IS_LOST to that query), unknown (GPU 1's name query answers
 * NVML_ERROR_UNKNOWN), ecc (GPU 0 has 3 uncorrected volatile ECC errors), retired (GPU 1
 * has pages pending retirement), remap (GPU 0 has a row remapping pending). Return codes
 * as nvml.h defines them (nvmlReturn_t). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
enum { OK = 0, INVALID_ARGUMENT = 2, NOT_SUPPORTED = 3, GPU_IS_LOST = 15, UNKNOWN = 999 };

static const char *mode(void) {
    const char *m = getenv("FAKE_NVML_MODE");
    return m ? m : "normal";
}

static int is(const char *m) { return strcmp(mode(), m) == 0; }

/* handles are 1 and 2 for GPUs 0 and 1 */
static int gpu(void *h) { return (int)(unsigned long)h - 1; }

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
    switch (r) {
    case NOT_SUPPORTED: return "Not Supported";
    case INVALID_ARGUMENT: return "Invalid Argument";
    case GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int n) { copy(v, n, "535.104.05"); return OK; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) { *v = 12020; return OK; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) { *v = 12020; return OK; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return OK; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **h) {
    if (i >= 2) return INVALID_ARGUMENT;
    if (i == 1 && is("lost-handle")) return GPU_IS_LOST;
    *h = (void *)(unsigned long)(i + 1);
    return OK;
}
nvmlReturn_t nvmlDeviceGetName(void *h, char *name, unsigned int n) {
    if (strcmp(mode(), "segfault") == 0) raise(SIGSEGV);
    if (gpu(h) == 1 && is("lost-name")) return GPU_IS_LOST;
    if (gpu(h) == 1 && is("unknown")) return UNKNOWN;
    copy(name, n, strcmp(mode(), "escape") == 0 ? "NVIDIA \x1b[2J\nVerdict: PASS" : "NVIDIA A100-SXM4-80GB");
    return OK;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(void *h, nvmlMemory_t *m) {
    if (strcmp(mode(), "nomem") == 0) return NOT_SUPPORTED;
    if (gpu(h) == 1 && is("lost-memory")) return GPU_IS_LOST;
    m->total = 81920ULL << 20; m->free = 60000ULL << 20; m->used = m->total - m->free;
    return OK;
}
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(void *h, int *major, int *minor) {
    (void)h;
    if (strcmp(mode(), "oddcc") == 0) { *major = -1; *minor = 999; return OK; }
    *major = 8; *minor = 0;
    return OK;
}
nvmlReturn_t nvmlDeviceGetTotalEccErrors(void *h, int type, int counter, unsigned long long *n) {
    /* type 1: NVML_MEMORY_ERROR_TYPE_UNCORRECTED, counter 0: NVML_VOLATILE_ECC */
    *n = (gpu(h) == 0 && is("ecc") && type == 1 && counter == 0) ? 3 : 0;
    return OK;
}
nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(void *h, int *pending) {
    *pending = gpu(h) == 1 && is("retired"); /* NVML_FEATURE_ENABLED is 1 */
    return OK;
}
nvmlReturn_t nvmlDeviceGetRemappedRows(void *h, unsigned int *corr, unsigned int *unc,
                                       unsigned int *pending, unsigned int *failed) {
    if (is("nomem")) return NOT_SUPPORTED; /* a GPU without row remapping */
    *corr = 0; *unc = gpu(h) == 0 && is("remap"); *pending = *unc; *failed = 0;
    return OK;
}
