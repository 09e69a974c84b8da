"""Multinomial logistic regression on the 8×8 digits (64→10): weights and
biases start at zero, full-batch gradient descent with lr 0.01 on the 1,257
training digits for 301 steps, then accuracy on the 540 held-out digits.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/digits_logreg.py
"""
import numpy as np

import kiln

digits = kiln.load_dataset("digits", seed=0)  # the embedded digits, 70/30 split
x_train, y_train = digits["train"]
x_test, y_test = digits["test"]

g = kiln.Builder()
x = g.input("x", x_train.shape)
y = g.labels("y", len(y_train), 10)
logits = kiln.dense(g, x, 10, "fc1", kiln.Init.zeros(), kiln.Init.zeros())
g.set_loss(g.softmax_cross_entropy(logits, y, "loss"))

plan = kiln.compile(g, optimizer="sgd", lr=0.01)
plan.input("x")[:] = x_train
plan.labels("y")[:] = y_train
for epoch in range(301):
    loss = plan.step()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss:.6f}")

p = plan.params()
for name, (features, labels) in (("training", (x_train, y_train)), ("test", (x_test, y_test))):
    predicted = np.argmax(features @ p["fc1/W"] + p["fc1/b"], axis=1)
    print(f"{name} accuracy {np.mean(predicted == labels):.4f}")
