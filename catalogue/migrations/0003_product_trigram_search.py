import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    """Typo-tolerant search: pg_trgm (a trusted extension: the database owner may create
    it), the title and summary as one generated column, and its GIN trigram index."""

    dependencies = [
        ("catalogue", "0002_listing_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="product",
            name="search_text",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Concat(
                    "title", models.Value(" "), "summary"
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="product",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_text"],
                name="catalogue_product_trigram",
                opclasses=["gin_trgm_ops"],
            ),
        ),
    ]
