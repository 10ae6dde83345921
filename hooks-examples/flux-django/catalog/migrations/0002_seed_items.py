from django.db import migrations


def seed(apps, schema_editor):
    Item = apps.get_model("catalog", "Item")
    for name, price in [("hammer", 1299), ("wrench", 899)]:
        Item.objects.get_or_create(name=name, defaults={"price_cents": price})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
