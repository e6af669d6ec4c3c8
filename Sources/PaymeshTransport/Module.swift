// PaymeshTransport: see the README for this layer.
