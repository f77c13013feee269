from django.db import migrations


def create_row(apps, schema_editor):
    # The one row exists from the start, so concurrent first writers update it instead of racing to insert.
    apps.get_model("knowledge", "KnowledgeIndexState").objects.get_or_create(pk=1, defaults={"token": ""})


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
