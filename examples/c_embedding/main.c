/* Fitting a logistic regression in C with a gradient symdiff wrote (loss.c).
 *
 * The Python function is examples/c_embedding/model.py:loss; `symdiff emit ... --lang c`
 * turned its gradient into loss_grad and loss_value_and_grad, specialised to 3 weights and
 * 16 points. This program builds the same points and runs gradient descent.
 */
#include <math.h>
#include <stdio.h>

#include "loss.h"

#define N 16
#define STEPS 200

int main(void)
{
    double X[N * 3];
    double y[N];
    double w[3] = {0.0, 0.0, 0.0};
    double d_w[3];
    double value = 0.0;
    for (int i = 0; i < N; i++) {
        X[i * 3 + 0] = 1.0;
        X[i * 3 + 1] = sin((double)i);
        X[i * 3 + 2] = cos(3.0 * i);
        y[i] = X[i * 3 + 1] + 0.5 * X[i * 3 + 2] > 0.0 ? 1.0 : 0.0;
    }
    for (int step = 0; step < STEPS; step++) {
        if (loss_value_and_grad(w, X, y, &value, d_w) != 0) {
            return 1;
        }
        for (int k = 0; k < 3; k++) {
            w[k] -= 0.5 * d_w[k];
        }
    }
    printf("loss %.17g\n", value);
    printf("w %.17g %.17g %.17g\n", w[0], w[1], w[2]);
    return 0;
}
