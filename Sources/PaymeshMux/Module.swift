// PaymeshMux: see the README for this layer.
