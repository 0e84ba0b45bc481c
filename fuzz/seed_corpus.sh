#!/usr/bin/env bash
# Seeds the fuzz corpora with real files: the committed fixtures and the trained weights.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/load_safetensors corpus/load_bytes corpus/load_tflite corpus/load_int8_image
cp ../tests/fixtures/*.safetensors corpus/load_safetensors/
cp ../data/digits/mlp.weights corpus/load_bytes/
cp ../tests/fixtures/tflite/*.tflite ../tests/fixtures/tflite/bad/*.tflite corpus/load_tflite/
cp ../tests/fixtures/tflite/*.int8 corpus/load_int8_image/
