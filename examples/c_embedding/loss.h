#ifndef LOSS_H
#define LOSS_H

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

#ifndef SYMDIFF_TAPE_FULL
#define SYMDIFF_TAPE_FULL 1
#endif

int loss(const double *w, const double *X, const double *y, double *value);
int loss_grad(const double *w, const double *X, const double *y, double *d_w);
int loss_value_and_grad(const double *w, const double *X, const double *y, double *value, double *d_w);

#endif /* LOSS_H */
