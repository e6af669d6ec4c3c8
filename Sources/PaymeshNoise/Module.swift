// PaymeshNoise: see the README for this layer.
