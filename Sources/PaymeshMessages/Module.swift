// PaymeshMessages: see the README for this layer.
