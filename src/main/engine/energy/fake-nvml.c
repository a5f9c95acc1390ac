/*
 * A stand-in for libnvidia-ml.so.1 with NVML's real signatures, for tests and the overhead bench:
 * the koffi bindings are exercised for real. Every energy read adds 1.5 J; GPU 1's counter is
 * above 2^32 mJ (64-bit marshalling); FAKE_NVML_NO_ENERGY makes the counter NOT_SUPPORTED.
 */
#include <stdio.h>
#include <stdlib.h>
typedef struct fake_device { int index; } *nvmlDevice_t;
static struct fake_device devices[2] = {{0}, {1}};
static unsigned long long energy[2] = {1000000ULL, 5000000000ULL};
int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int r) { return r == 3 ? "Not Supported" : "Unknown Error"; }
int nvmlDeviceGetCount_v2(unsigned int *count) { *count = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) { if (i > 1) return 2; *d = &devices[i]; return 0; }
int nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int length) { snprintf(name, length, "Fake GPU %d", d->index); return 0; }
int nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj) {
  if (getenv("FAKE_NVML_NO_ENERGY")) return 3;
  energy[d->index] += 1500; *mj = energy[d->index]; return 0;
}
int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) { *mw = d->index == 0 ? 120000 : 80000; return 0; }
