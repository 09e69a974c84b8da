"""cs231n's spiral classifier over kiln: 300 points on three interleaved arms
(made with NumPy as the course notes make them), a 2-100-3 ReLU network and
L2 regularisation written into the loss,

    loss = softmax_cross_entropy(scores, y) + 0.5·λ·(‖W1‖² + ‖W2‖²),  λ = 1e-3,

trained by 10,000 full-batch gradient-descent steps with lr 1.0.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/spiral.py
"""
import numpy as np

import kiln

N, D, K = 100, 2, 3  # points per class, dimensions, classes
rng = np.random.default_rng(0)
X = np.zeros((N * K, D), dtype=np.float32)
y = np.zeros(N * K, dtype=np.int32)
for j in range(K):
    rows = range(N * j, N * (j + 1))
    r = np.linspace(0.0, 1, N)                                        # radius
    t = np.linspace(j * 4, (j + 1) * 4, N) + rng.normal(size=N) * 0.2  # theta
    X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
    y[rows] = j

lam = 1e-3
g = kiln.Builder()
x = g.input("x", (N * K, D))
labels = g.labels("y", N * K, K)
with g.scope("fc1"):  # names made inside are "fc1/..."
    W1 = g.param("W", (D, 100), kiln.Init.normal(0.01))  # 0.01·N(0, 1)
    h = g.relu(g.matmul(x, W1) + g.param("b", (100,)), "relu")
with g.scope("fc2"):
    W2 = g.param("W", (100, K), kiln.Init.normal(0.01))
    scores = g.matmul(h, W2) + g.param("b", (K,))
data_loss = g.softmax_cross_entropy(scores, labels, "data_loss")
reg_loss = g.scale(g.add(g.l2(W1), g.l2(W2)), lam, "reg_loss")  # l2(W) is 0.5·‖W‖²
g.set_loss(g.add(data_loss, reg_loss, "loss"))

plan = kiln.compile(g, optimizer="sgd", lr=1.0)
plan.input("x")[:] = X       # the plan's own input buffer: written once, kept
plan.labels("y")[:] = y
for step in range(10000):
    loss = plan.step()       # the loss before this step's update
    if step % 1000 == 0:
        print(f"step {step:5d}  loss {loss:.6f}")

# Scores with the trained params, in NumPy.
p = plan.params()
hidden = np.maximum(0, X @ p["fc1/W"] + p["fc1/b"])
predicted = np.argmax(hidden @ p["fc2/W"] + p["fc2/b"], axis=1)
print(f"training accuracy {np.mean(predicted == y):.4f}")
