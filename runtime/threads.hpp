#pragma once

namespace kiln {

// How many threads the kernels may use. Today only the GEMMs run threaded
// (inside OpenBLAS); with another CBLAS the setting is accepted and ignored.
// Process-wide, like the BLAS setting it wraps. Throws kiln::Error for n < 1.
void set_threads(int n);
// The current setting (the BLAS default, usually the core count, until set).
int threads();

}  // namespace kiln
