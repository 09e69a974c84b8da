"""Training on NumPy arrays you made yourself: points in the plane labelled by
which of three rings they fall in, a 2-64-64-3 tanh network trained with Adam
on shuffled minibatches of 64, and accuracy on points it never saw.

Each minibatch is written straight into the plan's own input buffers
(plan.input / plan.labels are NumPy views of them), so the training loop
copies each batch once and kiln allocates nothing per step.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/numpy_arrays.py
"""
import numpy as np

import kiln

rng = np.random.default_rng(1)


def rings(n):
    points = rng.uniform(-1.5, 1.5, size=(n, 2)).astype(np.float32)
    radius = np.hypot(points[:, 0], points[:, 1])
    return points, np.digitize(radius, [0.6, 1.1]).astype(np.int32)  # classes 0, 1, 2


x_train, y_train = rings(4096)
x_test, y_test = rings(1024)
batch = 64

g = kiln.Builder()
x = g.input("x", (batch, 2))
y = g.labels("y", batch, 3)
h = g.tanh(kiln.dense(g, x, 64, "fc1", kiln.Init.xavier()))
h = g.tanh(kiln.dense(g, h, 64, "fc2", kiln.Init.xavier()))
g.set_loss(g.softmax_cross_entropy(kiln.dense(g, h, 3, "fc3", kiln.Init.xavier()), y, "loss"))
plan = kiln.compile(g, optimizer="adam", lr=0.01)
batch_x, batch_y = plan.input("x"), plan.labels("y")

for epoch in range(20):
    order = rng.permutation(len(x_train))
    losses = []
    for start in range(0, len(order) - batch + 1, batch):
        rows = order[start:start + batch]
        batch_x[:] = x_train[rows]
        batch_y[:] = y_train[rows]
        losses.append(plan.step())
    if epoch % 5 == 4:
        print(f"epoch {epoch:2d}  mean loss {np.mean(losses):.4f}")

p = plan.params()
h = np.tanh(x_test @ p["fc1/W"] + p["fc1/b"])
h = np.tanh(h @ p["fc2/W"] + p["fc2/b"])
predicted = np.argmax(h @ p["fc3/W"] + p["fc3/b"], axis=1)
print(f"test accuracy {np.mean(predicted == y_test):.4f}")
