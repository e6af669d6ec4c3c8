// PaymeshMsgpack: see the README for this layer.
