from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=200, unique=True)
    price_cents = models.PositiveIntegerField()

    def __str__(self):
        return self.name
