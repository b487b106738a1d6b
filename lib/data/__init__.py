"""Datasets: CIFAR-10 (official archive or JPEG image-folder export), Omniglot few-shot tasks, synthetic stand-ins."""
