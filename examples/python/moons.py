"""Two interleaved half-moons (kiln's make_moons, as scikit-learn makes them:
1,000 points, noise 0.2) separated by a 2-264-2-2 ReLU network with He
initialisation, trained by 1,000 full-batch steps of SGD with momentum 0.99
and lr 0.01. The 2-unit bottleneck is a learned 2-D feature space.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/moons.py
"""
import numpy as np

import kiln

X, y = kiln.load_dataset("moons", seed=0)["train"]
rows = len(X)

g = kiln.Builder()
x = g.input("x", (rows, 2))
labels = g.labels("y", rows, 2)
he = kiln.Init.he()  # N(0, 2 / fan_in)
h1 = g.relu(kiln.dense(g, x, 264, "fc1", he), "fc1/relu")
h2 = g.relu(kiln.dense(g, h1, 2, "fc2", he), "fc2/relu")
logits = kiln.dense(g, h2, 2, "fc3", he)
g.set_loss(g.softmax_cross_entropy(logits, labels, "loss"))

plan = kiln.compile(g, optimizer="momentum", lr=0.01, momentum=0.99)
plan.feed("x", X)
plan.feed("y", y)
for step in range(1000):
    loss = plan.step()
    if step % 100 == 0:
        print(f"step {step:4d}  loss {loss:.6f}")

# A forward-only plan over the same params reads the logits.
evaluation = kiln.Builder()
ex = evaluation.input("x", (rows, 2))
eh1 = evaluation.relu(kiln.dense(evaluation, ex, 264, "fc1"), "fc1/relu")
eh2 = evaluation.relu(kiln.dense(evaluation, eh1, 2, "fc2"), "fc2/relu")
kiln.dense(evaluation, eh2, 2, "fc3")
scorer = kiln.compile(evaluation, optimizer=None, share_params=plan, outputs=["fc3/add"])
scorer.input("x")[:] = X
scorer.run()
predicted = scorer.value("fc3/add").argmax(axis=1)
print(f"training accuracy {np.mean(predicted == y):.4f}")
