## xml/ capabilities document and domxml-from-native (lxc-tools).
