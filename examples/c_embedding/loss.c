#include "loss.h"
/* Gradient of `loss` with respect to w, written by symdiff 0.1.0 from
 * examples/c_embedding/model.py:18 (loss) for arguments w: 3, X: 16x3, y: 16 (float64,
 * row-major).
 *
 * Arguments come in the order of the Python function (arrays as pointers to their
 * elements), then the outputs: `value` for the function itself and _value_and_grad,
 * and d_<name> for each argument differentiated; outputs must not overlap the inputs.
 * The result is 0, or SYMDIFF_TAPE_FULL when a loop ran more than 10000 steps
 * (outputs unwritten).
 */
#include <math.h>

#ifndef SYMDIFF_TAPE_FULL
#define SYMDIFF_TAPE_FULL 1
#endif

int loss(const double *w, const double *X, const double *y, double *value)
{
    double z[16];
    for (int i = 0; i < 16; i++) {
        z[i] = 0.0;
        for (int j = 0; j < 3; j++) {
            z[i] += X[i * 3 + j] * w[j];
        }
    }
    double t1 = 0.0;
    for (int i = 0; i < 16; i++) {
        t1 += (0.0 >= z[i] ? 0.0 : z[i]) + log1p(exp(-fabs(0.0 - z[i]))) - y[i] * z[i];
    }
    t1 /= 16.0;
    double t2 = 0.0;
    for (int i = 0; i < 3; i++) {
        t2 += w[i] * w[i];
    }
    double loss_ = t1 + 0.01 * t2;
    *value = loss_;
    return 0;
}


int loss_grad(const double *w, const double *X, const double *y, double *d_w)
{
    // forward pass
    double z[16];
    for (int i = 0; i < 16; i++) {
        z[i] = 0.0;
        for (int j = 0; j < 3; j++) {
            z[i] += X[i * 3 + j] * w[j];
        }
    }
    // backward pass
    // line 20: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(w * w)
    double t1[3];
    for (int i = 0; i < 3; i++) {
        t1[i] = 0.01 * w[i];
    }
    // line 19: z = X @ w
    double d_z[16];
    for (int i = 0; i < 16; i++) {
        d_z[i] = 0.0625 * exp(z[i] - ((0.0 >= z[i] ? 0.0 : z[i]) + log1p(exp(-fabs(0.0 - z[i]))))) - 0.0625 * y[i];
    }
    double t2[3];
    for (int i = 0; i < 3; i++) {
        t2[i] = 0.0;
        for (int j = 0; j < 16; j++) {
            t2[i] += X[j * 3 + i] * d_z[j];
        }
    }
    for (int i = 0; i < 3; i++) {
        d_w[i] = t1[i] + t1[i] + t2[i];
    }
    return 0;
}


int loss_value_and_grad(const double *w, const double *X, const double *y, double *value, double *d_w)
{
    // forward pass
    double z[16];
    for (int i = 0; i < 16; i++) {
        z[i] = 0.0;
        for (int j = 0; j < 3; j++) {
            z[i] += X[i * 3 + j] * w[j];
        }
    }
    double t1[16];
    for (int i = 0; i < 16; i++) {
        t1[i] = (0.0 >= z[i] ? 0.0 : z[i]) + log1p(exp(-fabs(0.0 - z[i])));
    }
    double t3 = 0.0;
    for (int i = 0; i < 16; i++) {
        t3 += t1[i] - y[i] * z[i];
    }
    t3 /= 16.0;
    double t4 = 0.0;
    for (int i = 0; i < 3; i++) {
        t4 += w[i] * w[i];
    }
    double loss_ = t3 + 0.01 * t4;
    // backward pass
    // line 20: return np.mean(np.logaddexp(0.0, z) - y * z) + 0.01 * np.sum(w * w)
    double t2[3];
    for (int i = 0; i < 3; i++) {
        t2[i] = 0.01 * w[i];
    }
    // line 19: z = X @ w
    double d_z[16];
    for (int i = 0; i < 16; i++) {
        d_z[i] = 0.0625 * exp(z[i] - t1[i]) - 0.0625 * y[i];
    }
    double t5[3];
    for (int i = 0; i < 3; i++) {
        t5[i] = 0.0;
        for (int j = 0; j < 16; j++) {
            t5[i] += X[j * 3 + i] * d_z[j];
        }
    }
    for (int i = 0; i < 3; i++) {
        d_w[i] = t2[i] + t2[i] + t5[i];
    }
    *value = loss_;
    return 0;
}
