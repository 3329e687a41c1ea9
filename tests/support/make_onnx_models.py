#!/usr/bin/python3
"""Builds the tiny ONNX models the dnn stage's tests run, with known weights, and what they
should output, computed here with numpy (independently of OpenCV).

Usage: make_onnx_models.py OUT_DIR   (made once; written to a temporary folder, then renamed)

OUT_DIR gets:
  classifier.onnx     input [1,3,8,8] -> Conv 3x3 (4 filters) -> Relu -> GlobalAveragePool ->
                      Gemm (5 classes) -> Softmax: output [1,5]
  classify_input.bgr  an 8x8 BGR image, raw bytes (row-major, 3 bytes a pixel)
  classify_expected.json
                      the classifier's softmax for that image preprocessed as the test
                      configures the stage: RGB order (swap_rb), minus mean (10,20,30), times 0.02
  detector.onnx       input [1,3,16,16] -> Conv with one 16x16 kernel per output value ->
                      Reshape: an SSD-style output [1,1,6,7] whose every value is
                      BIAS + SLOPE * mean(input) (constants below), so the confidences of some
                      rows depend on the picture
  detector_expected.json
                      the rows for an input whose mean is 0 and for one whose mean is 1
  labels.txt          background, person, car, dog
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 11

# The detector's rows: [image_id, class, confidence, x1, y1, x2, y2], as BIAS + SLOPE * m where
# m is the mean of the network's input. With m = 1:
DETECTOR_BIAS = np.array(
    [
        [0, 1, 0.3, 0.10, 0.10, 0.50, 0.50],  # person 0.9
        [0, 1, 0.2, 0.12, 0.12, 0.52, 0.52],  # person 0.8, overlaps row 0: NMS drops it
        [0, 2, 0.7, 0.12, 0.12, 0.52, 0.52],  # car 0.7, same box: another class, kept
        [0, 1, 0.1, 0.60, 0.60, 0.90, 0.90],  # person 0.3: below the 0.5 threshold
        [-1, 1, 0.99, 0.0, 0.0, 1.0, 1.0],  # padding row (image id -1): ignored
        [0, 3, 0.6, 0.80, 0.70, 1.20, 1.10],  # dog 0.6, sticks out of the frame: clamped
    ],
    dtype=np.float32,
)
DETECTOR_SLOPE = np.zeros_like(DETECTOR_BIAS)
DETECTOR_SLOPE[0, 2] = 0.6
DETECTOR_SLOPE[1, 2] = 0.6
DETECTOR_SLOPE[3, 2] = 0.2


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)


def make_classifier(rng):
    w1 = rng.normal(0, 0.1, (4, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 4).astype(np.float32)
    w2 = rng.normal(0, 0.4, (5, 4)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 5).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["conv"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w2", "b2"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "classifier",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 5])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    return model, (w1, b1, w2, b2)


def classify(weights, x):
    """The classifier's forward pass in numpy; x is [3,8,8]."""
    w1, b1, w2, b2 = weights
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    conv = np.zeros((4, 8, 8), dtype=np.float64)
    for k in range(4):
        for y in range(8):
            for xx in range(8):
                conv[k, y, xx] = np.sum(w1[k] * padded[:, y:y + 3, xx:xx + 3]) + b1[k]
    pooled = np.maximum(conv, 0).mean(axis=(1, 2))
    logits = w2 @ pooled + b2
    e = np.exp(logits - logits.max())
    return e / e.sum()


def make_detector():
    rows = DETECTOR_BIAS.shape[0]
    # Output value j of the conv = sum(W[j] * input) + B[j] = SLOPE[j] * mean(input) + BIAS[j].
    weights = np.repeat(DETECTOR_SLOPE.reshape(-1, 1, 1, 1) / (3 * 16 * 16), 3, axis=1)
    weights = np.repeat(np.repeat(weights, 16, axis=2), 16, axis=3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["conv"], kernel_shape=[16, 16]),
        helper.make_node("Reshape", ["conv", "shape"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes, "detector",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, 1, rows, 7])],
        [numpy_helper.from_array(weights, "w"),
         numpy_helper.from_array(DETECTOR_BIAS.reshape(-1), "b"),
         numpy_helper.from_array(np.array([1, 1, rows, 7], dtype=np.int64), "shape")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    return model


def main():
    out = sys.argv[1]
    if os.path.isdir(out):
        return
    partial = f"{out}.partial-{os.getpid()}"
    os.makedirs(partial)
    rng = np.random.default_rng(20261125)

    classifier, weights = make_classifier(rng)
    save(classifier, os.path.join(partial, "classifier.onnx"))
    image = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)  # BGR, as the frame holds it
    image.tofile(os.path.join(partial, "classify_input.bgr"))
    rgb = image[:, :, ::-1].astype(np.float64)
    blob = ((rgb - np.array([10.0, 20.0, 30.0])) * 0.02).transpose(2, 0, 1)
    with open(os.path.join(partial, "classify_expected.json"), "w") as f:
        json.dump({"probabilities": classify(weights, blob).tolist()}, f)

    save(make_detector(), os.path.join(partial, "detector.onnx"))
    with open(os.path.join(partial, "detector_expected.json"), "w") as f:
        json.dump({str(m): (DETECTOR_BIAS + DETECTOR_SLOPE * m).tolist() for m in (0, 1)}, f)

    with open(os.path.join(partial, "labels.txt"), "w") as f:
        f.write("background\nperson\ncar\ndog\n")
    try:
        os.rename(partial, out)
    except OSError:  # another test process made it first
        shutil.rmtree(partial)
        if not os.path.isdir(out):
            raise


if __name__ == "__main__":
    main()
